/** Removes a subscription made with {@link KeyValueStore.subscribe}. */
export type Unsubscribe = () => Promise<void>;

/** Options of {@link KeyValueStore.set}. */
export interface SetOptions {
  /** Expire after this many milliseconds. */
  ttlMs?: number;
  /** Only set when the key does not exist (`SET NX`). */
  onlyIfAbsent?: boolean;
}

/**
 * The shared-state port: key-value with TTL, counters, hashes and pub/sub.
 * Keys and channels are logical names (`auth:token:{jti}:revoked`); the store applies
 * `REDIS_KEY_PREFIX` in exactly one place, so the wire key is `{prefix}:{name}`.
 * Implementations: `redis.ts` (standalone, Sentinel, Cluster) and `memory.ts` (one instance).
 */
export interface KeyValueStore {
  /** `memory`, `redis`, `sentinel` or `cluster`, for logs and /readyz. */
  readonly kind: "memory" | "redis" | "sentinel" | "cluster";
  /** The prefix applied to every key and channel (no trailing colon). */
  readonly prefix: string;
  /** The wire name of a logical key or channel: `{prefix}:{name}`. */
  wireKey(name: string): string;

  get(key: string): Promise<string | null>;
  /** @returns false when `onlyIfAbsent` and the key existed. */
  set(key: string, value: string, opts?: SetOptions): Promise<boolean>;
  /** @returns how many of the keys existed. */
  del(...keys: string[]): Promise<number>;
  /**
   * Deletes `key` only while it still holds `value`, atomically: releasing a lock you own
   * without deleting one that expired and was taken by someone else meanwhile.
   * @returns true when it was deleted.
   */
  delIfValue(key: string, value: string): Promise<boolean>;
  /** Atomically adds `by` (default 1), creating the key at 0; returns the new value. */
  incr(key: string, by?: number): Promise<number>;
  /** @returns false when the key does not exist. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining lifetime in ms; -1 when the key has no expiry, -2 when it does not exist. */
  ttl(key: string): Promise<number>;

  hget(key: string, field: string): Promise<string | null>;
  hset(key: string, field: string, value: string): Promise<void>;
  /** @returns how many fields existed. */
  hdel(key: string, ...fields: string[]): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  hlen(key: string): Promise<number>;

  /** @returns the number of receivers the store reports (memory: local handlers). */
  publish(channel: string, message: string): Promise<number>;
  /** Delivers every message published on `channel` (by any instance) to `handler`. */
  subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe>;

  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  /** True while the store is known to be unreachable (its circuit breaker is open): every call fails at once. */
  isDown(): boolean;
  /** Calls `listener(true)` when the store goes down and `listener(false)` when it answers again; returns the unsubscribe. */
  onHealthChange(listener: (down: boolean) => void): () => void;
  /** Closes connections; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** Joins the prefix and a logical name: the single place key prefixes are applied. */
export function joinPrefix(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}:${name}`;
}
