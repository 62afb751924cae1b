/** A Sentinel topology and a Redis Cluster, built from throwaway redis-servers. */
import type { Subprocess } from "bun";
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { ensureBinaries, isRoot, PG_BIN } from "./apt.ts";
import { runCommand } from "./exec.ts";
import { freeClusterPort, freePort } from "./ports.ts";
import { guardDir, guardPid, releaseDir, releasePid } from "./reaper.ts";
import { pairs, redisCommand } from "./resp.ts";
import { HOST, makeTempDir, removeDir, running, spawnLogged, waitFor, withLog } from "./processes.ts";
import { launchRedis, redisServerArgs, startRedis } from "./redis.ts";
import type { ClusterHandle, RedisHandle, SentinelTopology, ServiceHandle } from "./handles.ts";

export async function stopQuietly(handles: ServiceHandle[]): Promise<void> {
  await Promise.allSettled(handles.map((h) => h.stop()));
}

/** Like Promise.all, but waits for every launch and stops the ones that did start if any failed. */
async function allOrStop<T extends ServiceHandle>(launches: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(launches);
  const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stopQuietly(ok);
    throw failed.reason;
  }
  return ok;
}

/**
 * Starts a master, a replica of it and three `redis-sentinel`s monitoring it with quorum 2.
 * Resolves once the replica's link is up and every sentinel reports the master, knows the
 * replica and has discovered the two other sentinels (a failover needs a majority vote).
 * @param opts.masterName default `"mymaster"`.
 * @param opts.downAfterMs `sentinel down-after-milliseconds` (default 1000).
 * @param opts.failoverTimeoutMs `sentinel failover-timeout` (default 5000).
 */
export async function startSentinelTopology(
  opts: { masterName?: string; downAfterMs?: number; failoverTimeoutMs?: number } = {},
): Promise<SentinelTopology> {
  const masterName = opts.masterName ?? "mymaster";
  const started: ServiceHandle[] = [];
  try {
    const master = await startRedis();
    started.push(master);
    const replica = await startRedis({ args: ["--replicaof", HOST, String(master.port)] });
    started.push(replica);
    await waitFor(`replica ${HOST}:${replica.port} link to master ${master.port}`, 20_000, async () =>
      String(await redisCommand(replica.port, ["INFO", "replication"])).includes("master_link_status:up"),
    );

    const sentinelHandles = await allOrStop(
      [0, 1, 2].map(() =>
        launchRedis({
          label: "sentinel",
          command(port, dir) {
            const conf = join(dir, "sentinel.conf");
            writeFileSync(conf, [
              `port ${port}`,
              `bind ${HOST}`,
              "protected-mode no",
              "daemonize no",
              `dir ${dir}`,
              "sentinel resolve-hostnames no",
              `sentinel monitor ${masterName} ${HOST} ${master.port} 2`,
              `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs ?? 1000}`,
              `sentinel failover-timeout ${masterName} ${opts.failoverTimeoutMs ?? 5000}`,
              `sentinel parallel-syncs ${masterName} 1`,
              "",
            ].join("\n"));
            return ["redis-sentinel", conf];
          },
        }),
      ),
    );
    started.push(...sentinelHandles);

    for (const s of sentinelHandles) {
      await waitFor(`sentinel ${HOST}:${s.port} watching ${masterName}`, 30_000, async () => {
        const addr = await redisCommand(s.port, ["SENTINEL", "get-master-addr-by-name", masterName]);
        if (!Array.isArray(addr) || addr[0] !== HOST || addr[1] !== String(master.port)) return false;
        const state = pairs(await redisCommand(s.port, ["SENTINEL", "master", masterName]));
        return state["flags"] === "master" && Number(state["num-slaves"]) >= 1 && Number(state["num-other-sentinels"]) >= 2;
      });
    }

    const topology: SentinelTopology = {
      masterName,
      master,
      replica,
      sentinels: sentinelHandles.map((s) => ({ host: HOST, port: s.port })),
      sentinelHandles,
      async stop() {
        // Sentinels first, so they do not react to the data nodes going away.
        await stopQuietly(sentinelHandles);
        await stopQuietly([master, replica]);
      },
    };
    return topology;
  } catch (e) {
    await stopQuietly(started);
    throw e;
  }
}

/**
 * Starts `masters` (default 3, minimum 3) cluster-enabled redis-servers, joins them with
 * `redis-cli --cluster create … --cluster-yes` (no replicas) and resolves once every node
 * reports `cluster_state:ok` and knows all the others.
 */
export async function startRedisCluster(opts: { masters?: number } = {}): Promise<ClusterHandle> {
  const masters = opts.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 3) throw new Error(`a Redis Cluster needs at least 3 masters (got ${masters})`);
  const handles: RedisHandle[] = [];
  try {
    handles.push(
      ...(await allOrStop(
        Array.from({ length: masters }, () =>
          launchRedis({
            label: "cluster-node",
            pickPort: freeClusterPort,
            command: (port, dir) => [
              ...redisServerArgs(port, dir),
              "--cluster-enabled", "yes",
              "--cluster-config-file", "nodes.conf",
              "--cluster-node-timeout", "2000",
            ],
          }),
        ),
      )),
    );
    const nodes = handles.map((h) => ({ host: HOST, port: h.port }));
    const create = await runCommand(
      ["redis-cli", "--cluster", "create", ...nodes.map((n) => `${n.host}:${n.port}`), "--cluster-replicas", "0", "--cluster-yes"],
      { timeoutMs: 60_000 },
    );
    if (create.code !== 0) {
      throw new Error(`redis-cli --cluster create failed (exit ${create.code}${create.timedOut ? ", timed out" : ""}):\n${create.out.slice(-3000)}`);
    }
    for (const node of nodes) {
      await waitFor(`cluster node ${HOST}:${node.port}`, 30_000, async () => {
        const info = String(await redisCommand(node.port, ["CLUSTER", "INFO"]));
        return info.includes("cluster_state:ok") && info.includes(`cluster_known_nodes:${masters}\r\n`);
      });
    }
    return {
      nodes,
      handles,
      async stop() {
        await stopQuietly(handles);
      },
    };
  } catch (e) {
    await stopQuietly(handles);
    throw e;
  }
}
