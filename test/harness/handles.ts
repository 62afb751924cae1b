/** What the harness hands out for each service it starts. */

export interface ServiceHandle {
  /** The TCP port it listens on (127.0.0.1). */
  port: number;
  /** Its process id (for Postgres, the postmaster's). */
  pid: number;
  /** Stops the process, waits for it to exit and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** A throwaway PostgreSQL 15 cluster. */
export interface PostgresHandle extends ServiceHandle {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth, superuser). */
  url: string;
  /** The cluster's data directory (inside the temp dir removed by `stop`). */
  dataDir: string;
  /** Stops the server (immediate mode) but keeps the cluster, for outage tests. */
  pause(): Promise<void>;
  /** Starts a paused server again on the same port; resolves once it accepts connections. */
  resume(): Promise<void>;
}

/** A throwaway redis-server (or redis-sentinel). */
export interface RedisHandle extends ServiceHandle {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Sends `signal` (default SIGKILL) without waiting, e.g. to make Sentinel fail over. */
  kill(signal?: NodeJS.Signals): void;
}

/** One master, one replica and three sentinels (quorum 2), all on 127.0.0.1. */
export interface SentinelTopology {
  /** The monitored master's name, as clients pass it to Sentinel. */
  masterName: string;
  master: RedisHandle;
  replica: RedisHandle;
  /** Sentinel addresses, in the shape ioredis's `sentinels` option takes. */
  sentinels: { host: string; port: number }[];
  sentinelHandles: ServiceHandle[];
  /** Stops the sentinels, the master and the replica. */
  stop(): Promise<void>;
}

/** A Redis Cluster of masters only (no replicas). */
export interface ClusterHandle {
  /** Node addresses, in the shape `new Redis.Cluster(nodes)` takes. */
  nodes: { host: string; port: number }[];
  handles: RedisHandle[];
  /** Stops every node. */
  stop(): Promise<void>;
}
