import Redis, { Cluster, ReplyError, type ClusterOptions, type RedisOptions } from "ioredis";
import { joinPrefix, type KeyValueStore, type SetOptions, type Unsubscribe } from "./store.ts";
import { StoreUnavailableError } from "./errors.ts";
import { RedisKeyWatcher } from "./redis-key-watch.ts";
import type { KeyWatcher } from "./key-watch.ts";
import { baseOptions, parseUrl, type RedisStoreOptions } from "./redis-options.ts";
import { CircuitBreaker } from "../faults/circuit-breaker.ts";
import { RedisSubscriptions, within } from "./redis-subscriptions.ts";

export type { RedisStoreOptions } from "./redis-options.ts";


// How long a command waits for a (re)connection under way: without an offline queue it would fail at once.
const READY_WAIT_MS = 1000;
/** Compare-and-delete: GET and DEL in one atomic step. */
const DEL_IF_VALUE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
// Reply errors that mean "the topology is changing", not "the command is wrong".
const TRANSIENT_REPLY = /^(READONLY|LOADING|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;
// A lost connection plus one refused reconnect (≈ 100 ms), or two failed commands, and the store is down.
const STORE_CIRCUIT = { failureThreshold: 2, cooldownMs: 1000 };

/**
 * The store on ioredis 6: standalone, Sentinel or Cluster. Bounded latency while Redis is
 * down: the command connection has no offline queue, so a command waits at most
 * {@link READY_WAIT_MS} for a reconnection under way, then fails; a sent command fails after
 * `commandTimeoutMs`. Once the store is known to be down (its {@link circuit} is open: lost
 * connections, refused reconnects, failed commands) nothing waits at all: commands fail at
 * once until a reconnect succeeds, and the first command after it is the probe. Callers get {@link StoreUnavailableError} (never the URL or password);
 * the client keeps reconnecting, so the same instance recovers by itself. Sentinel mode
 * retries a failing command `sentinelMaxRetryCount` times with a short backoff, like Open
 * WebUI's SentinelRedisProxy. Pub/sub uses a second connection, made on first subscribe,
 * that does queue (SUBSCRIBE must survive an outage) and resubscribes on every reconnect.
 */
export class RedisStore implements KeyValueStore {
  readonly kind: "redis" | "sentinel" | "cluster";
  readonly prefix: string;
  /** Server-assisted invalidation; null on Cluster (see RedisKeyWatcher). */
  readonly watcher: KeyWatcher | null;
  /** Up or down, as the command connection has seen it (also in `gatehouse_circuit_state{dependency="store"}`). */
  readonly circuit = new CircuitBreaker("store", STORE_CIRCUIT);
  readonly #client: Redis | Cluster;
  readonly #secrets: string[];
  readonly #retries: number;
  readonly #onUnavailable: () => void;
  readonly #pubsub: RedisSubscriptions;
  #readyWait: Promise<void> | null = null;
  #releaseReadyWait: (() => void) | null = null;
  #closed = false;

  constructor(opts: RedisStoreOptions) {
    this.prefix = opts.prefix;
    this.#onUnavailable = opts.onUnavailable ?? (() => {});
    const u = parseUrl(opts.url);
    const base = baseOptions(opts, u);
    this.#secrets = [u?.password, u?.password ? decodeURIComponent(u.password) : ""].filter((s): s is string => !!s);
    // Sentinel wins over Cluster, as in Open WebUI.
    this.kind = opts.sentinelHosts.length > 0 ? "sentinel" : opts.cluster ? "cluster" : "redis";
    // Cluster retries TRYAGAIN/CLUSTERDOWN/MOVED itself; more retries here would only add latency.
    this.#retries = this.kind === "sentinel" ? Math.max(0, opts.sentinelMaxRetryCount) : 0;
    if (this.kind === "cluster") {
      const seed = { host: u?.hostname || "127.0.0.1", port: u?.port ? Number(u.port) : 6379 };
      const { retryStrategy: _r, enableOfflineQueue: _e, host: _h, port: _p, ...nodeOptions } = base;
      const make = (offline: boolean) =>
        new Cluster([seed], {
          enableOfflineQueue: offline,
          clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
          slotsRefreshTimeout: opts.connectTimeoutMs ?? 2000,
          redisOptions: { ...nodeOptions, autoResendUnfulfilledCommands: offline } satisfies ClusterOptions["redisOptions"],
        });
      this.#client = make(false);
      this.#pubsub = new RedisSubscriptions(() => make(true), false, (c) => this.#keepAlive(c));
      this.watcher = null;
    } else {
      const make = (extra: RedisOptions) => new Redis({ ...base, ...extra });
      // No resend after a reconnect: the caller was already told the command failed, and a
      // late INCR would count twice.
      this.#client = make({ enableOfflineQueue: false, autoResendUnfulfilledCommands: false });
      // Resubscription is ours (RedisSubscriptions): ioredis's can lose a SUBSCRIBE cut off by a second reconnect.
      const subscriber = () => make({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, autoResubscribe: false });
      this.#pubsub = new RedisSubscriptions(subscriber, true, (c) => this.#keepAlive(c));
      this.watcher = new RedisKeyWatcher((extra) => make({ enableOfflineQueue: true, protocol: 2, ...extra }), opts.prefix);
    }
    this.#client.on("error", () => {});
    this.#keepAlive(this.#client);
    this.#watchHealth(this.#client);
  }

  /** True while the store is known to be unreachable: commands fail at once. */
  isDown(): boolean {
    return this.circuit.down;
  }

  onHealthChange(listener: (down: boolean) => void): () => void {
    return this.circuit.onTransition((t) => {
      if (t.to === "open" && t.from === "closed") listener(true);
      if (t.to === "closed") listener(false);
    });
  }

  /**
   * Every lost connection and failed (re)connect counts against the circuit, so a dead
   * store is noticed by the reconnect loop within moments, not by requests waiting on it.
   */
  #watchHealth(c: Redis | Cluster): void {
    c.on("close", () => {
      if (!this.#closed) this.circuit.failure();
    });
    c.on("ready", () => this.circuit.probeNow());
    this.circuit.onTransition((t) => {
      // Commands waiting for a reconnection stop waiting: they fail now.
      if (t.to === "open") this.#releaseReadyWait?.();
    });
  }

  /**
   * ioredis can give up on a connection (status `end`) during a Sentinel failover it raced
   * with; an instance must not stay without its store until restarted, so it connects again.
   */
  #keepAlive(c: Redis | Cluster): void {
    c.on("end", () => {
      if (this.#closed) return;
      setTimeout(() => {
        if (!this.#closed && c.status === "end") c.connect().catch(() => {});
      }, 250);
    });
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
    const args: Array<string | number> = [this.wireKey(key), value];
    if (opts.ttlMs !== undefined) args.push("PX", Math.max(1, Math.ceil(opts.ttlMs)));
    if (opts.onlyIfAbsent) args.push("NX");
    return this.#do(async () => (await this.#client.call("SET", ...args)) === "OK");
  }

  async del(...keys: string[]): Promise<number> {
    // One DEL per key: Cluster refuses a multi-key DEL across slots.
    const counts = await Promise.all(keys.map((k) => this.#do(() => this.#client.del(this.wireKey(k)))));
    return counts.reduce((a, b) => a + b, 0);
  }

  delIfValue(key: string, value: string): Promise<boolean> {
    // One key, so one slot: fine on Cluster too.
    return this.#do(async () => (await this.#client.eval(DEL_IF_VALUE, 1, this.wireKey(key), value)) === 1);
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

  /** Registers `handler` and subscribes; never fails because Redis is unreachable (see {@link RedisSubscriptions}). */
  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    if (this.#closed) throw new StoreUnavailableError();
    return this.#pubsub.subscribe(this.wireKey(channel), handler);
  }

  /**
   * Never retried: a health check must answer within about a second. Not refused by an open
   * circuit either: it waits for a reconnection under way, so /readyz tells whether the store
   * is back, and its success closes the circuit.
   */
  async ping(): Promise<void> {
    await this.#do(() => this.#client.ping(), 0, true);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#pubsub.clear();
    const clients = [this.#client, this.#pubsub.connection].filter((c) => c !== null);
    await Promise.all(clients.map((c) => within(c.quit(), 1000).then(() => c.disconnect())));
  }

  /** Resolves on "ready" or after {@link READY_WAIT_MS}; all waiting commands share one listener. */
  #ready(): Promise<void> {
    const c = this.#client;
    if (c.status === "ready") return Promise.resolve();
    this.#readyWait ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        c.off("ready", done);
        this.#readyWait = null;
        this.#releaseReadyWait = null;
        resolve();
      };
      this.#releaseReadyWait = done;
      const timer = setTimeout(done, READY_WAIT_MS);
      c.once("ready", done);
    });
    return this.#readyWait;
  }

  /** Runs `command` through the circuit (`health`: past it, waiting for a reconnection like a healthy store). */
  async #do<T>(command: () => Promise<T>, retries = this.#retries, health = false): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new StoreUnavailableError();
      let failure: unknown = CIRCUIT_OPEN;
      if (health || this.circuit.allow()) {
        try {
          // Only a healthy store is worth waiting for; the half-open probe goes at once.
          if (health || this.circuit.state === "closed") await this.#ready();
          const result = await command();
          this.circuit.success();
          return result;
        } catch (e) {
          // A reply error such as WRONGTYPE is the caller's problem, not an outage.
          if (e instanceof ReplyError && !TRANSIENT_REPLY.test((e as Error).message)) {
            this.circuit.success();
            throw e;
          }
          this.circuit.failure();
          failure = e;
        }
      }
      if (attempt >= retries) {
        this.#onUnavailable();
        throw new StoreUnavailableError(failure === CIRCUIT_OPEN ? new Error("store circuit open") : this.#redact(failure));
      }
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 1000)));
    }
  }

  /** A copy of `e` safe to log: message only, the password masked. */
  #redact(e: unknown): Error {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return new Error(this.#secrets.reduce((m, s) => m.split(s).join("***"), message));
  }
}

const CIRCUIT_OPEN = Symbol("circuit open");

/** Creates the store for `opts`; the one place callers choose between standalone, Sentinel and Cluster. */
export function createRedisStore(opts: RedisStoreOptions): RedisStore {
  return new RedisStore(opts);
}
