/**
 * A provider document (discovery metadata, JWKS) kept as long as its HTTP cache headers allow:
 * `Cache-Control: max-age` (`no-store`/`no-cache` → the shortest bound), else `Expires` − `Date`,
 * else a default, always within bounds. Loads are single-flight. A failed reload keeps serving
 * the previous document; a failure with nothing to serve is remembered for a short backoff, so a
 * provider that is down is not asked again on every request.
 */

/** Bounds and defaults of a {@link CachedDocument}, in milliseconds. */
export interface CachePolicy {
  /** When the answer has no usable cache headers. */
  defaultTtlMs: number;
  minTtlMs: number;
  maxTtlMs: number;
  /** How long a failed first load is answered from memory (the error) before trying again. */
  failureBackoffMs: number;
}

/** Thrown by `get` during the failure backoff: the provider was just found unreachable. */
export class DocumentUnavailableError extends Error {
  constructor() {
    super("provider document unavailable (recent failure)");
    this.name = "DocumentUnavailableError";
  }
}

/** See the module comment. */
export class CachedDocument<T> {
  #value: T | null = null;
  #freshUntil = 0;
  #failedUntil = 0;
  #loadedAt = 0;
  #flight: Promise<T> | null = null;

  constructor(
    /** Fetches and validates the document; its `response` supplies the cache headers. */
    private readonly load: () => Promise<{ value: T; response: Response }>,
    private readonly policy: CachePolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** When the document was last loaded (epoch ms; 0 = never). */
  get loadedAt(): number {
    return this.#loadedAt;
  }

  /** The document, reloaded when stale; the previous one if a reload fails. */
  async get(): Promise<T> {
    const now = this.now();
    if (this.#value !== null && now < this.#freshUntil) return this.#value;
    if (now < this.#failedUntil) {
      if (this.#value !== null) return this.#value;
      throw new DocumentUnavailableError();
    }
    return this.reload();
  }

  /** Loads now (single-flight), e.g. when a token names a key the cached set does not hold. */
  reload(): Promise<T> {
    this.#flight ??= (async () => {
      try {
        const { value, response } = await this.load();
        const now = this.now();
        this.#value = value;
        this.#loadedAt = now;
        this.#freshUntil = now + freshnessMs(response.headers, this.policy);
        this.#failedUntil = 0;
        return value;
      } catch (e) {
        this.#failedUntil = this.now() + this.policy.failureBackoffMs;
        if (this.#value !== null) return this.#value;
        throw e;
      } finally {
        this.#flight = null;
      }
    })();
    return this.#flight;
  }
}

/** How long an answer with these headers may be used, within the policy's bounds. */
export function freshnessMs(headers: Headers, policy: Pick<CachePolicy, "defaultTtlMs" | "minTtlMs" | "maxTtlMs">): number {
  const clamp = (ms: number) => Math.min(policy.maxTtlMs, Math.max(policy.minTtlMs, ms));
  const cc = (headers.get("cache-control") ?? "").toLowerCase();
  if (/(^|[,\s])(no-store|no-cache)([,\s=]|$)/.test(cc)) return policy.minTtlMs;
  const maxAge = /(?:^|[,\s])max-age\s*=\s*"?(\d{1,10})"?/.exec(cc)?.[1];
  if (maxAge !== undefined) {
    const age = Number(headers.get("age") ?? "0");
    return clamp(Number(maxAge) * 1000 - (Number.isFinite(age) ? age * 1000 : 0));
  }
  const expires = Date.parse(headers.get("expires") ?? "");
  if (!Number.isNaN(expires)) {
    const date = Date.parse(headers.get("date") ?? "");
    return clamp(expires - (Number.isNaN(date) ? Date.now() : date));
  }
  return clamp(policy.defaultTtlMs);
}
