/**
 * Session tokens as the app uses them: one signer and one caching verifier built from config.
 * HS256 (Open WebUI's `WEBUI_SECRET_KEY` tokens) takes the direct WebCrypto path; EdDSA / ES256 /
 * RS256 (`GATEHOUSE_JWT_ALG`) go through jose with a rotating {@link KeyRing}. Only the
 * configured algorithm is ever accepted.
 */
import { hmacKeyFor, signHs256, verifyHs256 } from "./jwt-hs256.ts";
import { signAsymmetric, verifyAsymmetric } from "./jwt-asymmetric.ts";
import { KeyRing, type KeyRingEntry } from "./key-ring.ts";
import {
  completeClaims,
  DEFAULT_IAT_LEEWAY_SECONDS,
  type SessionClaims,
  type SessionClaimsInput,
} from "./session-claims.ts";
import { isAsymmetricAlg, type KeyMaterial, type SessionAlg } from "./signing-key.ts";
import { SigningKeyError } from "../errors.ts";
import { DEFAULT_TOKEN_CACHE_SIZE, VerifiedTokenCache } from "./token-cache.ts";

/** Session-token configuration (from `WEBUI_SECRET_KEY`, `GATEHOUSE_JWT_ALG` and key settings). */
export interface SessionTokenConfig {
  readonly alg: SessionAlg;
  /** The HS256 secret (`WEBUI_SECRET_KEY`); not used by the asymmetric algorithms. */
  readonly secret: string;
  /** Asymmetric keys, newest first: PKCS#8 PEM / JWK (text or object), optionally retired. */
  readonly privateKeys?: readonly (KeyMaterial | KeyRingEntry)[];
  /** Verified-token cache entries (default 10 000); 0 disables the cache. */
  readonly cacheSize?: number;
  /** Allowed clock skew for `iat`/`nbf` in seconds (default 30; PyJWT's is 0). */
  readonly iatLeewaySeconds?: number;
}

/** Loaded keys: an HMAC secret, or a key ring. */
export type SessionKeys = { readonly alg: "HS256"; readonly secret: string } | KeyRing;

/**
 * Loads and checks the keys `config` names, failing at startup with a {@link SigningKeyError}
 * rather than on the first request.
 */
export async function loadSessionKeys(config: SessionTokenConfig): Promise<SessionKeys> {
  if (config.alg === "HS256") {
    await hmacKeyFor(config.secret);
    return { alg: "HS256", secret: config.secret };
  }
  if (!isAsymmetricAlg(config.alg)) throw new SigningKeyError();
  if (config.privateKeys === undefined || config.privateKeys.length === 0) {
    throw new SigningKeyError("ERR_SIGNING_KEY_MISSING");
  }
  const ring = await KeyRing.from(config.alg, config.privateKeys);
  // Every instance issues tokens at sign-in, so a ring that cannot sign is a startup error.
  void ring.current;
  return ring;
}

/** Issues session tokens; claims are written in Open WebUI's order (`id, exp, jti, iat`). */
export class SessionTokenSigner {
  readonly #keys: SessionKeys;

  constructor(keys: SessionKeys) {
    this.#keys = keys;
  }

  /** A signer over freshly loaded keys. */
  static async fromConfig(config: SessionTokenConfig): Promise<SessionTokenSigner> {
    return new SessionTokenSigner(await loadSessionKeys(config));
  }

  /** Signs `claims`, filling `jti` (UUIDv4) and `iat` (floor of `nowSeconds`) when absent. */
  async sign(claims: SessionClaimsInput, nowSeconds: number = Date.now() / 1000): Promise<string> {
    const complete = completeClaims(claims, nowSeconds);
    const keys = this.#keys;
    return keys instanceof KeyRing ? signAsymmetric(keys.current, complete) : signHs256(keys.secret, complete);
  }
}

/** Options of {@link SessionTokenVerifier}. */
export interface SessionTokenVerifierOptions {
  /** Verified-token cache entries (default 10 000); 0 disables the cache. */
  readonly cacheSize?: number;
  /** Allowed clock skew for `iat`/`nbf` in seconds (default 30). */
  readonly iatLeewaySeconds?: number;
}

/**
 * Verifies session tokens, answering repeat tokens from a bounded cache. Revocation is not its
 * business: callers check it on every request, cache hit or not.
 */
export class SessionTokenVerifier {
  readonly #keys: SessionKeys;
  readonly #cache: VerifiedTokenCache | null;
  readonly #leeway: number;

  constructor(keys: SessionKeys, opts: SessionTokenVerifierOptions = {}) {
    const size = opts.cacheSize ?? DEFAULT_TOKEN_CACHE_SIZE;
    this.#keys = keys;
    this.#cache = size === 0 ? null : new VerifiedTokenCache(size);
    this.#leeway = opts.iatLeewaySeconds ?? DEFAULT_IAT_LEEWAY_SECONDS;
    if (!Number.isFinite(this.#leeway) || this.#leeway < 0) throw new RangeError("iatLeewaySeconds must be >= 0");
  }

  /** A verifier over freshly loaded keys. */
  static async fromConfig(config: SessionTokenConfig): Promise<SessionTokenVerifier> {
    return new SessionTokenVerifier(await loadSessionKeys(config), config);
  }

  /** The configured algorithm; tokens with any other `alg` are refused. */
  get alg(): SessionAlg {
    return this.#keys.alg;
  }

  /**
   * The claims of a valid token, from the cache when possible. Throws {@link TokenError} with a
   * stable code for anything else.
   */
  async verify(token: string, nowSeconds: number = Date.now() / 1000): Promise<SessionClaims> {
    return this.cached(token, nowSeconds) ?? this.#verifyAndRemember(token, nowSeconds);
  }

  /**
   * The cached claims for `token` if it was verified before and is still valid, synchronously;
   * `undefined` means "call {@link verify}", not "invalid".
   */
  cached(token: string, nowSeconds: number = Date.now() / 1000): SessionClaims | undefined {
    return this.#cache?.get(token, nowSeconds, this.#keyVersion());
  }

  /** Full verification, bypassing and not filling the cache. */
  async verifyUncached(token: string, nowSeconds: number = Date.now() / 1000): Promise<SessionClaims> {
    return (await this.#verifyFully(token, nowSeconds)).claims;
  }

  /** Forgets every cached verification. */
  clearCache(): void {
    this.#cache?.clear();
  }

  async #verifyAndRemember(token: string, nowSeconds: number): Promise<SessionClaims> {
    const version = this.#keyVersion();
    const { claims, notAfter } = await this.#verifyFully(token, nowSeconds);
    this.#cache?.set(token, claims, version, notAfter);
    return claims;
  }

  async #verifyFully(token: string, now: number): Promise<{ claims: SessionClaims; notAfter: number | undefined }> {
    const keys = this.#keys;
    if (!(keys instanceof KeyRing)) {
      return { claims: await verifyHs256(keys.secret, token, now, this.#leeway), notAfter: undefined };
    }
    return verifyAsymmetric(keys.alg, (kid) => keys.find(kid), token, now, this.#leeway);
  }

  #keyVersion(): number {
    return this.#keys instanceof KeyRing ? this.#keys.version : 0;
  }
}

/** Loads keys once and builds a signer and verifier sharing them (so rotation affects both). */
export async function createSessionTokens(
  config: SessionTokenConfig,
): Promise<{ keys: SessionKeys; signer: SessionTokenSigner; verifier: SessionTokenVerifier }> {
  const keys = await loadSessionKeys(config);
  return { keys, signer: new SessionTokenSigner(keys), verifier: new SessionTokenVerifier(keys, config) };
}
