import { BoundedMap } from "../cache/bounded-map.ts";
import type { KeyValueStore, Unsubscribe } from "../kv/store.ts";
import type { UserRecord, UsersRepo } from "../db/repos/users.ts";
import { outsideRequestScope } from "../observability/request-scope.ts";

/** Where instances announce that a user changed (role, profile, password, deletion). */
export const USER_CHANGED_CHANNEL = "auth:user-changed";

/** An entry used in the last fifth of its fresh life is re-read in the background. */
const REFRESH_AHEAD_FRACTION = 0.2;

interface Entry {
  user: UserRecord | "missing";
  /** Date.now() until which the entry is served without asking the database. */
  freshUntil: number;
  /** Date.now() of the last failed refresh; 0 when the last refresh worked. */
  failedAt: number;
}

/**
 * The current-user lookup behind every authenticated request: an LRU with a TTL in front
 * of one short checkout, invalidated across instances by pub/sub, so a warm request makes
 * no database checkout at all.
 *
 * Built to ride out a database outage: entries of active users are refreshed ahead of
 * their expiry in the background; when a refresh fails the entry is served stale (up to
 * `maxStaleMs` past its TTL) instead of failing the request; concurrent misses for one user
 * share one query. Invalidations (role change, deletion, password change) drop the entry
 * outright, so no stale copy outlives them.
 */
export class UserCache {
  readonly #cache: BoundedMap<string, Entry>;
  readonly #ttlMs: number;
  readonly #retryMs: number;
  /** One query per user at a time; callers missing together wait for the same answer. */
  readonly #inflight = new Map<string, Promise<UserRecord | null>>();
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
    this.#ttlMs = opts.ttlMs ?? 60_000;
    this.#retryMs = Math.min(5000, Math.max(100, this.#ttlMs / 4));
    // The map's own expiry is the end of the stale allowance.
    this.#cache = new BoundedMap(opts.max ?? 50_000, this.#ttlMs + (opts.maxStaleMs ?? 3_600_000));
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.store.subscribe(USER_CHANGED_CHANNEL, (id) => this.#drop(id)).catch(() => null);
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }

  /**
   * The cached user without I/O: the user, null (known missing), or undefined (not cached,
   * or expired and the database has not failed). A stale entry is answered while refreshes fail.
   */
  peek(id: string, now: number = Date.now()): UserRecord | null | undefined {
    const e = this.#cache.get(id, now);
    if (e === undefined) return undefined;
    if (now >= e.freshUntil) {
      if (e.failedAt === 0) return undefined;
      if (now - e.failedAt >= this.#retryMs) this.#refreshInBackground(id);
    } else if (now >= e.freshUntil - this.#ttlMs * REFRESH_AHEAD_FRACTION) {
      this.#refreshInBackground(id);
    }
    return e.user === "missing" ? null : e.user;
  }

  /** The user, from cache or one checkout; null when no such user. Stale when the database cannot answer. */
  async get(id: string): Promise<UserRecord | null> {
    const cached = this.peek(id);
    if (cached !== undefined) return cached;
    const e = this.#cache.get(id);
    try {
      return await this.#load(id);
    } catch (err) {
      // Still the same entry (no invalidation meanwhile): serve what we had.
      if (e !== undefined && this.#cache.get(id) === e) return e.user === "missing" ? null : e.user;
      throw err;
    }
  }

  /** Drops the user here and on every instance. Call after any change to the user. */
  async invalidate(id: string): Promise<void> {
    this.#drop(id);
    await this.store.publish(USER_CHANGED_CHANNEL, id).catch(() => {});
  }

  #refreshInBackground(id: string): void {
    if (this.#inflight.has(id)) return;
    // Not the request's checkout: it only happened to notice the entry ageing.
    outsideRequestScope(() => this.#load(id)).catch(() => {});
  }

  /** One query for `id` shared by every concurrent caller; a failure marks the entry as failing. */
  #load(id: string): Promise<UserRecord | null> {
    const running = this.#inflight.get(id);
    if (running) return running;
    const epoch = this.#epoch;
    const query = this.users.byId(id).then(
      (user) => {
        if (epoch === this.#epoch) this.#cache.set(id, { user: user ?? "missing", freshUntil: Date.now() + this.#ttlMs, failedAt: 0 });
        return user;
      },
      (err: unknown) => {
        const e = this.#cache.get(id);
        if (e !== undefined && epoch === this.#epoch) e.failedAt = Date.now();
        throw err;
      },
    ).finally(() => {
      if (this.#inflight.get(id) === query) this.#inflight.delete(id);
    });
    this.#inflight.set(id, query);
    return query;
  }

  #drop(id: string): void {
    this.#epoch++;
    this.#cache.delete(id);
    this.#inflight.delete(id);
    for (const l of this.listeners) l(id);
  }
}
