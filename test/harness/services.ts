/**
 * Throwaway real services on loopback for tests: PostgreSQL 15 (run as the `postgres` OS
 * user when this process is root), redis-server, a Sentinel topology and a Redis Cluster.
 *
 * Each service gets its own temp dir holding its data and its log file (child output never
 * reaches the test output); startup errors quote the log's tail. Every process is tracked:
 * {@link stopAll} stops whatever is still running, and on process exit any survivor is
 * killed as a last resort. Every wait has a deadline.
 */
import { killTracked, live, removeDir, running, tempDirs, untrack } from "./processes.ts";
import { stopQuietly } from "./redis-topologies.ts";

export { ensureBinaries } from "./apt.ts";
export { freePort } from "./ports.ts";
export type { ClusterHandle, PostgresHandle, RedisHandle, SentinelTopology, ServiceHandle } from "./handles.ts";
export { createDatabase, startPostgres } from "./postgres.ts";
export { startRedis } from "./redis.ts";
export { startRedisCluster, startSentinelTopology } from "./redis-topologies.ts";
export { startSlapd } from "./slapd.ts";

/**
 * Stops everything this module started that is still running, SIGKILLs any process left
 * over from a failed startup, and removes all temp dirs. Safe to call more than once.
 */
export async function stopAll(): Promise<void> {
  await stopQuietly([...running]);
  for (const t of [...live]) {
    killTracked(t);
    untrack(t);
  }
  for (const d of [...tempDirs]) {
    try {
      removeDir(d);
    } catch {
      // Best effort; the OS temp dir is cleaned eventually.
    }
  }
}
