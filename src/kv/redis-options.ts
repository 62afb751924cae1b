import type { RedisOptions } from "ioredis";

/** How to reach Redis (Open WebUI's variables). */
export interface RedisStoreOptions {
  /** `REDIS_URL`: `redis://` or `rediss://`, may carry user, password and `/db`; in Sentinel mode the host is the service name. */
  url: string | null;
  /** `REDIS_SENTINEL_HOSTS`, split (an entry may carry `:port`); non-empty selects Sentinel mode, which wins over Cluster. */
  sentinelHosts: readonly string[];
  sentinelPort: number;
  /** Sentinel mode: retries of a command after a connection error or READONLY. */
  sentinelMaxRetryCount: number;
  /** `REDIS_CLUSTER`: the URL's host:port is a seed node. */
  cluster: boolean;
  prefix: string;
  /** How long one connection attempt may take (default 2000). */
  connectTimeoutMs?: number;
  /** How long a sent command waits for its reply (default 1500). */
  commandTimeoutMs?: number;
  /** Called each time a command fails because Redis is unreachable (for `gatehouse_store_errors_total`). */
  onUnavailable?: () => void;
}

/** The parsed `REDIS_URL`, or null. Never quotes the input in its error: it may hold a password. */
export function parseUrl(url: string | null): URL | null {
  if (url === null) return null;
  // URL.parse, because the constructor's error message quotes the input, password included.
  const u = URL.parse(url);
  if (!u || (u.protocol !== "redis:" && u.protocol !== "rediss:")) throw new Error("REDIS_URL must be a redis:// or rediss:// URL");
  return u;
}

/** ioredis options for standalone or Sentinel mode (Cluster derives its node options from these). */
export function baseOptions(opts: RedisStoreOptions, u: URL | null): RedisOptions {
  const common: RedisOptions = {
    username: u?.username ? decodeURIComponent(u.username) : undefined,
    password: u?.password ? decodeURIComponent(u.password) : undefined,
    db: u && u.pathname.length > 1 ? Number(u.pathname.slice(1)) || 0 : 0,
    tls: u?.protocol === "rediss:" ? {} : undefined,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 1500,
    connectTimeout: opts.connectTimeoutMs ?? 2000,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    // Reconnect (Sentinel then names the new master) and let #do retry the rejected command.
    reconnectOnError: (err) => err.message.startsWith("READONLY"),
  };
  if (opts.sentinelHosts.length === 0) {
    return { ...common, host: u?.hostname || "127.0.0.1", port: u?.port ? Number(u.port) : 6379 };
  }
  return {
    ...common,
    sentinels: opts.sentinelHosts.map((h) => hostPort(h, opts.sentinelPort)),
    name: u?.hostname || "mymaster",
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    sentinelCommandTimeout: 1000,
    // Also follow a failover the old master survives (partition), via +switch-master.
    failoverDetector: true,
  };
}

function hostPort(h: string, defaultPort: number): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(h);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: h, port: defaultPort };
}
