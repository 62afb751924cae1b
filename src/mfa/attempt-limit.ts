import type { KeyValueStore } from "../kv/store.ts";
import { RateLimitedError } from "../auth/auth-errors.ts";

/**
 * Second-factor attempts per user, counted atomically in the shared store (INCR) before the
 * code is checked, so parallel guesses on any number of instances cannot pass the limit.
 * A success clears the count.
 */
export class MfaAttemptLimiter {
  constructor(
    private readonly store: KeyValueStore,
    private readonly maxAttempts: number,
    private readonly windowSeconds: number,
  ) {}

  /** Takes one attempt. @throws RateLimitedError once `maxAttempts` were used in the window. */
  async take(userId: string): Promise<void> {
    const key = this.#key(userId);
    const n = await this.store.incr(key);
    if (n === 1) await this.store.expire(key, this.windowSeconds * 1000);
    if (n > this.maxAttempts) {
      const ttl = await this.store.ttl(key);
      // A counter left without expiry (a crash between INCR and EXPIRE) must not lock the user out forever.
      if (ttl === -1) await this.store.expire(key, this.windowSeconds * 1000);
      throw new RateLimitedError(ttl > 0 ? ttl / 1000 : this.windowSeconds);
    }
  }

  /** Forgets the user's attempts (after a success). */
  async clear(userId: string): Promise<void> {
    await this.store.del(this.#key(userId));
  }

  #key(userId: string): string {
    return `mfa:attempts:${userId}`;
  }
}
