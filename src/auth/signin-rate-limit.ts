import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
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
 * Counts failed password sign-ins per lower-cased email and per client IP in the shared
 * store (rate-limiter-flexible on Redis, with an in-memory limiter as insurance when Redis
 * is down). Only failures count; a blocked key answers 429 with `Retry-After`.
 */
export class SignInRateLimiter {
  readonly #byEmail: RateLimiterAbstract;
  readonly #byIp: RateLimiterAbstract;

  constructor(store: KeyValueStore, limits: SignInLimits) {
    this.#byEmail = make(store, "signin:email", limits.perEmail, limits.windowSeconds);
    this.#byIp = make(store, "signin:ip", limits.perIp, limits.windowSeconds);
  }

  /** @throws RateLimitedError when either key has used up its failures. */
  async check(email: string, ip: string): Promise<void> {
    const [e, i] = await Promise.all([this.#byEmail.get(email.toLowerCase()), this.#byIp.get(ip)]);
    const waits: number[] = [];
    if (e && e.consumedPoints >= this.#byEmail.points) waits.push(e.msBeforeNext);
    if (i && i.consumedPoints >= this.#byIp.points) waits.push(i.msBeforeNext);
    if (waits.length > 0) throw new RateLimitedError(Math.max(...waits) / 1000);
  }

  /** Records one failed attempt for both keys. */
  async fail(email: string, ip: string): Promise<void> {
    await Promise.all([
      this.#byEmail.penalty(email.toLowerCase(), 1).catch(() => {}),
      this.#byIp.penalty(ip, 1).catch(() => {}),
    ]);
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
