import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { KeyValueStore } from "../kv/store.ts";
import { RedisStore } from "../kv/redis.ts";
import { RateLimitedError } from "./auth-errors.ts";

/** Failed-sign-in limits. */
export interface SignInLimits {
  perEmail: number;
  perIp: number;
  windowSeconds: number;
}

/**
 * Limits credential checks per lower-cased email and per client IP in the shared store
 * (rate-limiter-flexible on Redis, with an in-memory limiter as insurance when Redis is down).
 * An attempt is consumed atomically *before* the slow verification and given back when it
 * succeeds, so only failures count and parallel attempts cannot all slip past the limit
 * (reading the count before verifying and adding to it after let 40 simultaneous guesses
 * through a limit of 15). A used-up key answers 429 with `Retry-After`.
 */
export class SignInRateLimiter {
  readonly #byEmail: RateLimiterAbstract;
  readonly #byIp: RateLimiterAbstract;

  constructor(store: KeyValueStore, limits: SignInLimits) {
    this.#byEmail = make(store, "signin:email", limits.perEmail, limits.windowSeconds);
    this.#byIp = make(store, "signin:ip", limits.perIp, limits.windowSeconds);
  }

  /**
   * Consume before verify, refund on success — the one way every credential check (password,
   * LDAP) is limited: consumes one attempt for `email` and one for `ip`, then runs `verify`,
   * and gives both back unless it resolved false (a success, or an error that gave no verdict,
   * such as a full crypto queue, does not count). Resolves with `verify`'s answer.
   * @throws RateLimitedError (nothing verified) when either key has used up its attempts.
   */
  async attempt(email: string, ip: string, verify: () => Promise<boolean>): Promise<boolean> {
    const key = email.toLowerCase();
    await this.#consume(key, ip);
    let verdict: boolean | undefined;
    try {
      verdict = await verify();
      return verdict;
    } finally {
      if (verdict !== false) await this.#refund(key, ip);
    }
  }

  /** Takes one point from both keys atomically per key; if the IP is refused, the email's point is given back. */
  async #consume(email: string, ip: string): Promise<void> {
    const byEmail = await take(this.#byEmail, email);
    if (byEmail !== null) throw new RateLimitedError(byEmail / 1000);
    const byIp = await take(this.#byIp, ip);
    if (byIp !== null) {
      await this.#byEmail.reward(email, 1).catch(() => {});
      throw new RateLimitedError(byIp / 1000);
    }
  }

  async #refund(email: string, ip: string): Promise<void> {
    await Promise.all([this.#byEmail.reward(email, 1).catch(() => {}), this.#byIp.reward(ip, 1).catch(() => {})]);
  }
}

/** Consumes one point; null when granted, else the ms until the key frees up. */
async function take(limiter: RateLimiterAbstract, key: string): Promise<number | null> {
  try {
    await limiter.consume(key, 1);
    return null;
  } catch (e) {
    if (e instanceof RateLimiterRes) return e.msBeforeNext;
    // Neither Redis nor the insurance limiter answered: do not lock everyone out (no 500 either).
    return null;
  }
}

function make(store: KeyValueStore, name: string, points: number, duration: number): RateLimiterAbstract {
  const keyPrefix = store.wireKey(`ratelimit:${name}`);
  if (store instanceof RedisStore) {
    return new RateLimiterRedis({
      storeClient: store.client,
      keyPrefix,
      points,
      duration,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
    });
  }
  return new RateLimiterMemory({ keyPrefix, points, duration });
}
