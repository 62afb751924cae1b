import type { KeyValueStore } from "../kv/store.ts";

/** Open WebUI's hash of models in use: `{prefix}:usage_pool`, field = model id, value = `{sid: {updated_at}}`. */
export const USAGE_POOL_KEY = "usage_pool";

/** Longest model id accepted in a `usage` event. */
const MAX_MODEL_ID_LENGTH = 256;
/** Models one socket may be marked on at once (the client reports the ones it is chatting with). */
const MAX_MODELS_PER_SOCKET = 16;

/**
 * `usage {model}`: marks a socket as using a model, in Open WebUI's layout, so Open WebUI's
 * model-usage views see Gatehouse's sockets. A socket's marks are removed when it closes.
 */
export class UsagePool {
  /** Models marked per socket on this instance, so a close removes exactly those. */
  readonly #bySocket = new Map<string, Set<string>>();

  constructor(private readonly store: KeyValueStore) {}

  /** True for a model id this pool accepts. */
  static valid(model: unknown): model is string {
    return typeof model === "string" && model.length > 0 && model.length <= MAX_MODEL_ID_LENGTH;
  }

  /** Records `sid` as using `model` now; false when the socket already marks too many models. */
  async mark(sid: string, model: string): Promise<boolean> {
    const models = this.#bySocket.get(sid) ?? new Set<string>();
    if (!models.has(model) && models.size >= MAX_MODELS_PER_SOCKET) return false;
    models.add(model);
    this.#bySocket.set(sid, models);
    const entry = await this.#read(model);
    entry[sid] = { updated_at: Date.now() / 1000 };
    await this.store.hset(USAGE_POOL_KEY, model, JSON.stringify(entry));
    return true;
  }

  /** Removes the socket from every model it marked (dropping models nobody uses any more). */
  async forget(sid: string): Promise<void> {
    const models = this.#bySocket.get(sid);
    if (!models) return;
    this.#bySocket.delete(sid);
    for (const model of models) {
      const entry = await this.#read(model);
      delete entry[sid];
      if (Object.keys(entry).length === 0) await this.store.hdel(USAGE_POOL_KEY, model);
      else await this.store.hset(USAGE_POOL_KEY, model, JSON.stringify(entry));
    }
  }

  async #read(model: string): Promise<Record<string, { updated_at: number }>> {
    const raw = await this.store.hget(USAGE_POOL_KEY, model);
    if (raw === null) return {};
    try {
      const v = JSON.parse(raw) as unknown;
      return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, { updated_at: number }>) : {};
    } catch {
      return {};
    }
  }
}
