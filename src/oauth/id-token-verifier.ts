import type { JSONWebKeySet, JWTPayload } from "jose";
import type { CryptoService } from "../crypto/offload/crypto-service.ts";
import { IdTokenError } from "../crypto/errors.ts";
import { verifyIdToken, type IdTokenVerifyArgs } from "../crypto/jwt/id-token.ts";
import { CachedDocument, type CachePolicy } from "./cached-document.ts";

// An unknown `kid` triggers a refetch at most this often, so a forged kid cannot hammer the provider.
const REFETCH_MIN_INTERVAL_MS = 30_000;

/** Key sets: as long as their cache headers say (1 s to 24 h; 1 h without headers). */
export const JWKS_CACHE_POLICY: CachePolicy = { defaultTtlMs: 3_600_000, minTtlMs: 1_000, maxTtlMs: 86_400_000, failureBackoffMs: 2_000 };

/**
 * A provider's key set, kept as long as its HTTP cache headers allow and refetched early when a
 * token names a key it does not hold (rotation at the provider; at most every 30 s). Signatures
 * are checked by the crypto service's `idtoken.verify` op, so the offload policy applies (inline
 * when no service is given).
 */
export class IdTokenVerifier {
  readonly #keys: CachedDocument<JSONWebKeySet>;
  #forcedAt = 0;

  constructor(
    jwksUri: URL,
    timeoutMs: number,
    private readonly crypto: CryptoService | null,
  ) {
    this.#keys = new CachedDocument(async () => {
      const response = await fetch(jwksUri, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
      if (!response.ok) throw new Error(`JWKS fetch answered ${response.status}`);
      const body = (await response.json()) as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error("JWKS document without keys");
      const keys = body.keys.filter((k): k is JsonWebKey => typeof k === "object" && k !== null);
      return { value: { keys } as JSONWebKeySet, response };
    }, JWKS_CACHE_POLICY);
  }

  /** @throws IdTokenError (or the fetch error when the key set cannot be had). */
  async verify(token: string, expected: { issuer: string; audience: string; maxTokenAgeSeconds?: number }): Promise<JWTPayload> {
    try {
      return await this.#check({ jwks: await this.#keys.get(), token, ...expected });
    } catch (e) {
      if (!(e instanceof IdTokenError && e.code === "ERR_IDTOKEN_KEY_UNKNOWN")) throw e;
      const now = Date.now();
      if (now - this.#forcedAt < REFETCH_MIN_INTERVAL_MS) throw e;
      this.#forcedAt = now;
      return this.#check({ jwks: await this.#keys.reload(), token, ...expected });
    }
  }

  #check(args: IdTokenVerifyArgs): Promise<JWTPayload> {
    return this.crypto ? this.crypto.run("idtoken.verify", args) : verifyIdToken(args);
  }
}
