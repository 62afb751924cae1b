import Redis, { Cluster, ReplyError, type RedisOptions } from "ioredis";
import { joinPrefix, type KeyValueStore, type SetOptions, type Unsubscribe } from "./store.ts";
import { StoreUnavailableError } from "./errors.ts";
import { RedisKeyWatcher } from "./redis-key-watch.ts";
import type { KeyWatcher } from "./key-watch.ts";

/** How to reach Redis (Open WebUI's variables). */
export interface RedisStoreOptions {
  url: string | null;
  sentinelHosts: readonly string[];
  sentinelPort: number;
  sentinelMaxRetryCount: number;
  cluster: boolean;
  prefix: string;
  /** Per-command deadline; a command never waits longer than this for a reply. */
  commandTimeoutMs?: number;
}

type Client = Redis | Cluster;

// How long a command waits for a connection being (re)established before failing.
const READY_WAIT_MS = 1000;

/**
 * The store on ioredis: standalone, Sentinel or Cluster. While Redis is unreachable,
 * commands fail at once (no offline queue) with {@link StoreUnavailableError} instead of
 * piling up; the client keeps reconnecting in the background and recovers by itself.
 * During a Sentinel failover a command is retried `sentinelMaxRetryCount` times with
 * backoff, as Open WebUI's SentinelRedisProxy does.
 */
export class RedisStore implements KeyValueStore {
  readonly kind: "redis" | "sentinel" | "cluster";
  readonly prefix: string;
  /** Server-assisted invalidation; null on Cluster (see RedisKeyWatcher). */
  readonly watcher: KeyWatcher | null;
  readonly #client: Client;
  readonly #makeSubscriber: () => Client;
  #subscriber: Client | null = null;
  readonly #handlers = new Map<string, Set<(m: string) => void>>();
  readonly #retries: number;

  constructor(opts: RedisStoreOptions) {
    this.prefix = opts.prefix;
    const base = baseOptions(opts);
    if (opts.cluster) {
      this.kind = "cluster";
      const seed = seedNode(opts.url);
      const make = (offline: boolean) =>
        new Cluster([seed], {
          enableOfflineQueue: offline,
          clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
          redisOptions: { ...clusterNodeOptions(base) },
        });
      this.#client = make(false);
      this.#makeSubscriber = () => make(true);
      this.watcher = null;
      this.#retries = 1;
    } else {
      this.kind = opts.sentinelHosts.length > 0 ? "sentinel" : "redis";
      const make = (extra: RedisOptions) => new Redis({ ...base, ...extra });
      this.#client = make({ enableOfflineQueue: false });
      this.#makeSubscriber = () => make({ enableOfflineQueue: true });
      this.watcher = new RedisKeyWatcher((extra) => make({ enableOfflineQueue: true, protocol: 2, ...extra }), opts.prefix);
      this.#retries = this.kind === "sentinel" ? opts.sentinelMaxRetryCount : 0;
    }
    this.#client.on("error", () => {});
  }

  wireKey(name: string): string {
    return joinPrefix(this.prefix, name);
  }

  /** The command connection, for libraries that speak ioredis themselves (rate-limiter-flexible). */
  get client(): Redis | Cluster {
    return this.#client;
  }

  get(key: string): Promise<string | null> {
    return this.#do(() => this.#client.get(this.wireKey(key)));
  }

  set(key: string, value: string, opts: SetOptions = {}): Promise<boolean> {
    return this.#do(async () => {
      const k = this.wireKey(key);
      const c = this.#client;
      let r: string | null;
      if (opts.ttlMs !== undefined && opts.onlyIfAbsent) r = await c.set(k, value, "PX", Math.max(1, Math.ceil(opts.ttlMs)), "NX");
      else if (opts.ttlMs !== undefined) r = await c.set(k, value, "PX", Math.max(1, Math.ceil(opts.ttlMs)));
      else if (opts.onlyIfAbsent) r = await c.set(k, value, "NX");
      else r = await c.set(k, value);
      return r === "OK";
    });
  }

  async del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    // One DEL per key: on Cluster a multi-key DEL across slots is refused.
    const counts = await Promise.all(keys.map((k) => this.#do(() => this.#client.del(this.wireKey(k)))));
    return counts.reduce((a, b) => a + b, 0);
  }

  incr(key: string, by = 1): Promise<number> {
    return this.#do(() => this.#client.incrby(this.wireKey(key), by));
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#do(async () => (await this.#client.pexpire(this.wireKey(key), Math.max(1, Math.ceil(ttlMs)))) === 1);
  }

  ttl(key: string): Promise<number> {
    return this.#do(() => this.#client.pttl(this.wireKey(key)));
  }

  hget(key: string, field: string): Promise<string | null> {
    return this.#do(() => this.#client.hget(this.wireKey(key), field));
  }

  hset(key: string, field: string, value: string): Promise<void> {
    return this.#do(async () => void (await this.#client.hset(this.wireKey(key), field, value)));
  }

  hdel(key: string, ...fields: string[]): Promise<number> {
    if (fields.length === 0) return Promise.resolve(0);
    return this.#do(() => this.#client.hdel(this.wireKey(key), ...fields));
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.#do(() => this.#client.hgetall(this.wireKey(key)));
  }

  hlen(key: string): Promise<number> {
    return this.#do(() => this.#client.hlen(this.wireKey(key)));
  }

  publish(channel: string, message: string): Promise<number> {
    return this.#do(() => this.#client.publish(this.wireKey(channel), message));
  }

  /**
   * Registers `handler` and subscribes; never fails for an unreachable Redis — the
   * subscription is made (and remade after every reconnect) as soon as Redis answers.
   */
  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    const wire = this.wireKey(channel);
    const sub = this.#ensureSubscriber();
    let set = this.#handlers.get(wire);
    if (!set) {
      this.#handlers.set(wire, (set = new Set()));
      const subscribed = sub.subscribe(wire).catch(() => {});
      await Promise.race([subscribed, new Promise((r) => setTimeout(r, 2000))]);
    }
    const own = (m: string) => handler(m);
    set.add(own);
    return async () => {
      set.delete(own);
      if (set.size === 0 && this.#handlers.get(wire) === set) {
        this.#handlers.delete(wire);
        await sub.unsubscribe(wire).catch(() => {});
      }
    };
  }

  async ping(): Promise<void> {
    await this.#do(() => this.#client.ping());
  }

  async close(): Promise<void> {
    for (const c of [this.#client, this.#subscriber]) {
      if (!c) continue;
      await Promise.race([c.quit().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
      c.disconnect();
    }
  }

  /** Waits briefly for a (re)connection in progress; without an offline queue a command sent now would fail. */
  #ready(ms: number): Promise<void> {
    const c = this.#client;
    if (c.status === "ready") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        c.off("ready", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      c.once("ready", done);
    });
  }

  #ensureSubscriber(): Client {
    if (this.#subscriber) return this.#subscriber;
    const sub = this.#makeSubscriber();
    sub.on("error", () => {});
    sub.on("message", (channel: string, message: string) => {
      for (const h of this.#handlers.get(channel) ?? []) {
        try {
          h(message);
        } catch {
          // One handler's failure must not starve the others.
        }
      }
    });
    this.#subscriber = sub;
    return sub;
  }

  async #do<T>(command: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#ready(READY_WAIT_MS);
        return await command();
      } catch (e) {
        if (e instanceof ReplyError && !String((e as Error).message).startsWith("READONLY")) throw e;
        if (attempt >= this.#retries) throw new StoreUnavailableError();
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
  }
}

function baseOptions(opts: RedisStoreOptions): RedisOptions {
  const u = opts.url ? new URL(opts.url) : null;
  const db = u && u.pathname.length > 1 ? Number(u.pathname.slice(1)) || 0 : 0;
  const common: RedisOptions = {
    username: u?.username ? decodeURIComponent(u.username) : undefined,
    password: u?.password ? decodeURIComponent(u.password) : undefined,
    db,
    tls: u?.protocol === "rediss:" ? {} : undefined,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    reconnectOnError: (err) => (err.message.startsWith("READONLY") ? 2 : false),
  };
  if (opts.sentinelHosts.length > 0) {
    return {
      ...common,
      sentinels: opts.sentinelHosts.map((h) => hostPort(h, opts.sentinelPort)),
      name: u?.hostname ?? "mymaster",
      sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
      sentinelCommandTimeout: 1000,
    };
  }
  return { ...common, host: u?.hostname ?? "127.0.0.1", port: u?.port ? Number(u.port) : 6379 };
}

function hostPort(h: string, defaultPort: number): { host: string; port: number } {
  const i = h.lastIndexOf(":");
  return i > 0 && /^\d+$/.test(h.slice(i + 1)) ? { host: h.slice(0, i), port: Number(h.slice(i + 1)) } : { host: h, port: defaultPort };
}

function seedNode(url: string | null): { host: string; port: number } {
  const u = url ? new URL(url) : null;
  return { host: u?.hostname ?? "127.0.0.1", port: u?.port ? Number(u.port) : 6379 };
}

function clusterNodeOptions(base: RedisOptions): Omit<RedisOptions, "enableOfflineQueue" | "host" | "port" | "retryStrategy" | "sentinels" | "readOnly" | "path" | "himportFieldsets"> {
  const { retryStrategy: _r, enableOfflineQueue: _e, host: _h, port: _p, ...rest } = base;
  return rest;
}
