import { BoundedMap } from "../cache/bounded-map.ts";
import type { KeyValueStore, Unsubscribe } from "../kv/store.ts";
import type { UserRecord, UsersRepo } from "../db/repos/users.ts";

/** Where instances announce that a user changed (role, profile, password, deletion). */
export const USER_CHANGED_CHANNEL = "auth:user-changed";

/**
 * The current-user lookup behind every authenticated request: an LRU with a TTL in front
 * of one short checkout, invalidated across instances by pub/sub, so a warm request makes
 * no database checkout at all.
 */
export class UserCache {
  readonly #cache: BoundedMap<string, UserRecord | "missing">;
  #unsubscribe: Unsubscribe | null = null;
  /** Bumped on every invalidation; a read that raced one is not cached. */
  #epoch = 0;
  /**
   * Reads in flight by user id, with the epoch they started in: concurrent misses for one user
   * share one checkout. (Without this a burst of sockets or requests of a few users — 2,500
   * upgrades for 10 users — queued thousands of checkouts and overflowed GATEHOUSE_DB_MAX_WAITERS.)
   */
  readonly #inflight = new Map<string, { epoch: number; read: Promise<UserRecord | null> }>();
  /** Called with the user id whenever a change is learned (local or from a peer). */
  readonly listeners = new Set<(userId: string) => void>();

  constructor(
    private readonly users: UsersRepo,
    private readonly store: KeyValueStore,
    opts: { max?: number; ttlMs?: number } = {},
  ) {
    this.#cache = new BoundedMap(opts.max ?? 50_000, opts.ttlMs ?? 60_000);
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.store.subscribe(USER_CHANGED_CHANNEL, (id) => this.#drop(id)).catch(() => null);
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }

  /** The cached user without I/O: the user, null (known missing), or undefined (not cached). */
  peek(id: string): UserRecord | null | undefined {
    const hit = this.#cache.get(id);
    return hit === undefined ? undefined : hit === "missing" ? null : hit;
  }

  /** The user, from cache or one checkout; null when no such user. */
  async get(id: string): Promise<UserRecord | null> {
    const hit = this.#cache.get(id);
    if (hit !== undefined) return hit === "missing" ? null : hit;
    const epoch = this.#epoch;
    const joined = this.#inflight.get(id);
    // A read started before an invalidation may return the old row: never join it.
    if (joined !== undefined && joined.epoch === epoch) return joined.read;
    const read = this.users.byId(id).then((user) => {
      if (epoch === this.#epoch) this.#cache.set(id, user ?? "missing");
      return user;
    });
    const entry = { epoch, read };
    this.#inflight.set(id, entry);
    const forget = () => {
      if (this.#inflight.get(id) === entry) this.#inflight.delete(id);
    };
    read.then(forget, forget);
    return read;
  }

  /** Drops the user here and on every instance. Call after any change to the user. */
  async invalidate(id: string): Promise<void> {
    this.#drop(id);
    await this.store.publish(USER_CHANGED_CHANNEL, id).catch(() => {});
  }

  #drop(id: string): void {
    this.#epoch++;
    this.#cache.delete(id);
    for (const l of this.listeners) l(id);
  }
}
