import { TooManyStreamsError } from "./gateway-errors.ts";

/**
 * Per-user cap on concurrent chat calls (`GATEHOUSE_GATEWAY_MAX_STREAMS_PER_USER`; 0 = none),
 * counted on this instance: each call holds one slot from before it is forwarded until it ends,
 * fails or the client goes away. A user at the cap gets 429 with `Retry-After`.
 */
export class StreamSlots {
  readonly #held = new Map<string, number>();

  constructor(private readonly perUser: number, private readonly retryAfterSeconds = 5) {}

  /**
   * Takes one of `userId`'s slots and returns its release (safe to call more than once).
   * @throws TooManyStreamsError when the user holds all their slots.
   */
  take(userId: string): () => void {
    if (this.perUser <= 0) return () => {};
    const n = this.#held.get(userId) ?? 0;
    if (n >= this.perUser) throw new TooManyStreamsError(this.perUser, this.retryAfterSeconds);
    this.#held.set(userId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#held.get(userId) ?? 1) - 1;
      if (left > 0) this.#held.set(userId, left);
      else this.#held.delete(userId);
    };
  }

  /** Slots held by `userId` now. */
  held(userId: string): number {
    return this.#held.get(userId) ?? 0;
  }
}
