import type { JSONWebKeySet, JWTPayload } from "jose";
import type { CryptoService } from "../crypto/crypto-service.ts";
import { IdTokenError, verifyIdToken, type IdTokenVerifyArgs } from "../crypto/id-token.ts";

// An unknown `kid` triggers a refetch at most this often, so a forged kid cannot hammer the provider.
const REFETCH_MIN_INTERVAL_MS = 30_000;

/**
 * A provider's key set, fetched once and kept, refetched only when a token names a key it does
 * not hold (rotation at the provider). Signatures are checked by the crypto service's
 * `idtoken.verify` op, so the offload policy applies (inline when no service is given).
 */
export class IdTokenVerifier {
  #doc: Promise<JSONWebKeySet> | null = null;
  #fetchedAt = 0;

  constructor(
    private readonly jwksUri: URL,
    private readonly timeoutMs: number,
    private readonly crypto: CryptoService | null,
  ) {}

  /** @throws IdTokenError (or the fetch error when the key set cannot be had). */
  async verify(token: string, expected: { issuer: string; audience: string; maxTokenAgeSeconds?: number }): Promise<JWTPayload> {
    try {
      return await this.#check({ jwks: await this.#keys(), token, ...expected });
    } catch (e) {
      if (!(e instanceof IdTokenError && e.code === "ERR_IDTOKEN_KEY_UNKNOWN")) throw e;
      if (Date.now() - this.#fetchedAt < REFETCH_MIN_INTERVAL_MS) throw e;
      this.#doc = null;
      return this.#check({ jwks: await this.#keys(), token, ...expected });
    }
  }

  #check(args: IdTokenVerifyArgs): Promise<JWTPayload> {
    return this.crypto ? this.crypto.run("idtoken.verify", args) : verifyIdToken(args);
  }

  #keys(): Promise<JSONWebKeySet> {
    this.#doc ??= (async () => {
      const res = await fetch(this.jwksUri, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: "application/json" } });
      if (!res.ok) throw new Error(`JWKS fetch answered ${res.status}`);
      const body = (await res.json()) as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error("JWKS document without keys");
      this.#fetchedAt = Date.now();
      return { keys: body.keys.filter((k): k is JsonWebKey => typeof k === "object" && k !== null) } as JSONWebKeySet;
    })().catch((e: unknown) => {
      this.#doc = null;
      throw e;
    });
    return this.#doc;
  }
}
