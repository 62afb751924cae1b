/**
 * The verified-token cache (DESIGN §5a): the exact token string → its verified claims, so a warm
 * request skips signature verification. Revocation is not cached here and must still be checked
 * on every request.
 */
import { BoundedMap } from "../../cache/bounded-map.ts";
import { isExpired, type SessionClaims } from "./session-claims.ts";

/** Default number of cached tokens; session tokens are ~250 B, so ~2.5 MB of strings at most. */
export const DEFAULT_TOKEN_CACHE_SIZE = 10_000;

interface Entry {
  /** The exact token verified: a lookup whose key matches but whose token differs is a miss. */
  readonly token: string;
  readonly claims: SessionClaims;
  /** Key-set version the token was verified under; any rotation/retirement invalidates it. */
  readonly keyVersion: number;
  /** The signing key's retirement, if any: the entry is dead after it, like the key. */
  readonly notAfter: number | undefined;
}

/** Characters of the token's tail (its signature) packed into the lookup key: 7 × 7 bits stays an exact double. */
const KEY_CHARS = 7;

/**
 * The lookup key: the last characters of the signature as one number. Hashing a number is cheaper
 * than hashing the ~250-character token (≈ 35 ns less per lookup with 10,000 entries: bench/results/token-cache-key.md); a
 * collision is only a miss, because the stored token is compared in full.
 */
function keyOf(token: string): number {
  const n = token.length;
  let key = 0;
  for (let i = n < KEY_CHARS ? 0 : n - KEY_CHARS; i < n; i++) key = key * 128 + (token.charCodeAt(i) & 127);
  return key;
}

/**
 * Bounded cache of verified tokens (oldest evicted first). An entry is never returned at or after its token's `exp`, after
 * its key's `notAfter`, or under a different key-set version; such entries are dropped on sight.
 * Only tokens that passed full verification are stored, so an attacker cannot fill it.
 */
export class VerifiedTokenCache {
  readonly #lru: BoundedMap<number, Entry>;

  constructor(max: number = DEFAULT_TOKEN_CACHE_SIZE) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError("token cache size must be a positive integer");
    this.#lru = new BoundedMap<number, Entry>(max);
  }

  /** The cached claims for `token`, if still valid at `nowSeconds` under `keyVersion`. */
  get(token: string, nowSeconds: number, keyVersion: number): SessionClaims | undefined {
    const key = keyOf(token);
    const entry = this.#lru.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (
      entry.keyVersion !== keyVersion ||
      isExpired(entry.claims, nowSeconds) ||
      (entry.notAfter !== undefined && nowSeconds > entry.notAfter)
    ) {
      this.#lru.delete(key);
      return undefined;
    }
    return entry.claims;
  }

  /** Remembers a fully verified token. */
  set(token: string, claims: SessionClaims, keyVersion: number, notAfter?: number): void {
    this.#lru.set(keyOf(token), { token, claims, keyVersion, notAfter });
  }

  /** Forgets everything. */
  clear(): void {
    this.#lru.clear();
  }

  /** Number of entries (live or not yet swept). */
  get size(): number {
    return this.#lru.size;
  }
}
