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
  /** Called with the user id whenever a change is learned (local or from a peer). */
  readonly listeners = new Set<(userId: string) => void>();

  constructor(
    private readonly users: UsersRepo,
    private readonly store: KeyValueStore,
    opts: { max?: number; ttlMs?: number; maxStaleMs?: number } = {},
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
    const user = await this.users.byId(id);
    if (epoch === this.#epoch) this.#cache.set(id, user ?? "missing");
    return user;
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
