import { LRUCache } from "lru-cache";
import type { KeyValueStore, Unsubscribe } from "../kv/store.ts";
import type { UserRecord } from "../db/repos/users.ts";
import { ANY, type ModelAccessRepo } from "../db/repos/model-access.ts";

/** Where instances announce that a user's model grants changed (message: user id or `*`). */
export const MODEL_ACCESS_CHANGED_CHANNEL = "gateway:model-access-changed";

/** The models one user may call. */
export interface ModelGrants {
  /** Every model (admins, or a `*` grant). */
  all: boolean;
  models: ReadonlySet<string>;
}

const EVERYTHING: ModelGrants = Object.freeze({ all: true, models: new Set<string>() });

/**
 * Model access in front of `gatehouse_model_access`: an LRU with a TTL, one short checkout
 * on a miss (concurrent misses for one user share it), invalidated on every instance by
 * pub/sub. Admins are allowed everything without a lookup. A warm check makes no checkout.
 */
export class ModelAccess {
  readonly #cache: LRUCache<string, ModelGrants>;
  readonly #loading = new Map<string, Promise<ModelGrants>>();
  /** Bumped by every invalidation, so a load that raced one is not cached. */
  #generation = 0;
  #unsubscribe: Unsubscribe | null = null;

  constructor(
    private readonly repo: ModelAccessRepo,
    private readonly store: KeyValueStore,
    opts: { max?: number; ttlMs?: number } = {},
  ) {
    this.#cache = new LRUCache({ max: opts.max ?? 50_000, ttl: opts.ttlMs ?? 60_000 });
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.store.subscribe(MODEL_ACCESS_CHANGED_CHANNEL, (who) => this.#drop(who)).catch(() => null);
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }

  /** What `user` may call. */
  async grants(user: UserRecord): Promise<ModelGrants> {
    if (user.role === "admin") return EVERYTHING;
    const hit = this.#cache.get(user.id);
    if (hit) return hit;
    let pending = this.#loading.get(user.id);
    if (!pending) {
      const generation = this.#generation;
      pending = this.repo.modelsFor(user.id).then((ids) => {
        const grants: ModelGrants = ids.includes(ANY) ? EVERYTHING : { all: false, models: new Set(ids) };
        if (generation === this.#generation) this.#cache.set(user.id, grants);
        return grants;
      });
      const current = pending;
      void current.catch(() => {}).finally(() => {
        if (this.#loading.get(user.id) === current) this.#loading.delete(user.id);
      });
      this.#loading.set(user.id, current);
    }
    return pending;
  }

  /** Whether `user` may call `model`. */
  async allows(user: UserRecord, model: string): Promise<boolean> {
    const g = await this.grants(user);
    return g.all || g.models.has(model);
  }

  /** Forgets a user's grants (`*`: everyone's) here and on every instance. */
  async invalidate(userId: string): Promise<void> {
    this.#drop(userId);
    await this.store.publish(MODEL_ACCESS_CHANGED_CHANNEL, userId).catch(() => {});
  }

  #drop(userId: string): void {
    this.#generation++;
    if (userId === ANY) {
      this.#cache.clear();
      this.#loading.clear();
    } else {
      this.#cache.delete(userId);
      this.#loading.delete(userId);
    }
  }
}
