/**
 * A small bounded memo for imported `CryptoKey`s (or anything derived from key material
 * asynchronously). Importing costs microseconds to milliseconds per call, and the set of live
 * keys is tiny (a secret or two, a few rotated signing keys), so a plain insertion-ordered
 * `Map` that drops its oldest entry is enough.
 */
export class KeyCache<V> {
  readonly #entries = new Map<string, Promise<V>>();

  /** @param max Most entries kept; the oldest is dropped beyond it. */
  constructor(readonly max = 32) {}

  /**
   * The value for `id`, computed by `load` on a miss. Concurrent misses share one load; a
   * failed load is forgotten so that a later call can retry.
   */
  get(id: string, load: () => Promise<V>): Promise<V> {
    const hit = this.#entries.get(id);
    if (hit !== undefined) return hit;
    const pending = load();
    this.#entries.set(id, pending);
    if (this.#entries.size > this.max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    pending.catch(() => {
      if (this.#entries.get(id) === pending) this.#entries.delete(id);
    });
    return pending;
  }

  /** Number of cached entries (tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }
}
