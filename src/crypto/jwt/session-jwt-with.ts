/**
 * Stateless session-token functions over plain, structured-cloneable arguments, for worker
 * threads (piscina tasks) and one-off use. Imported keys are cached per key material inside the
 * calling thread, so repeated calls cost no re-import. No verified-token cache here: that lives
 * on the main thread in {@link SessionTokenVerifier}.
 */
import { signHs256, verifyHs256 } from "./jwt-hs256.ts";
import { signAsymmetric, verifyAsymmetric, type ResolvedKey } from "./jwt-asymmetric.ts";
import { KeyCache } from "../key-cache.ts";
import type { VerificationMaterial } from "./key-ring.ts";
import {
  completeClaims,
  DEFAULT_IAT_LEEWAY_SECONDS,
  type SessionClaims,
  type SessionClaimsInput,
} from "./session-claims.ts";
import {
  importVerificationKey,
  isAsymmetricAlg,
  SigningKey,
  type AsymmetricAlg,
  type KeyMaterial,
  type SessionAlg,
  type VerificationKey,
} from "./signing-key.ts";
import { SigningKeyError, TokenError, type SigningKeyErrorCode, type TokenErrorCode } from "../errors.ts";

/** Outcome of {@link tryVerifySessionTokenWith}: plain data, safe to post between threads. */
export type VerifyOutcome =
  | { readonly ok: true; readonly claims: SessionClaims }
  | { readonly ok: false; readonly code: TokenErrorCode | SigningKeyErrorCode };

const signingKeys = new KeyCache<SigningKey>(16);
const verificationKeys = new KeyCache<VerificationKey>(64);

/**
 * Signs session claims. `keyMaterial` is the HMAC secret for HS256, else a private key (PKCS#8
 * PEM or JWK, e.g. from `SigningKey.exportPrivateJwk()`).
 */
export async function signSessionTokenWith(
  alg: SessionAlg,
  keyMaterial: KeyMaterial,
  claims: SessionClaimsInput,
  nowSeconds: number = Date.now() / 1000,
): Promise<string> {
  const complete = completeClaims(claims, nowSeconds);
  if (alg === "HS256") {
    if (typeof keyMaterial !== "string") throw new SigningKeyError();
    return signHs256(keyMaterial, complete);
  }
  if (!isAsymmetricAlg(alg)) throw new SigningKeyError();
  const key = await signingKeys.get(materialId(alg, keyMaterial), () => SigningKey.import(alg, keyMaterial));
  return signAsymmetric(key, complete);
}

/**
 * Verifies a session token exactly as {@link SessionTokenVerifier} does, minus the cache.
 * `keyMaterial` is the HMAC secret for HS256, else the ring's `verificationMaterial()` (or a
 * single key). Throws {@link TokenError} / {@link SigningKeyError}.
 */
export async function verifySessionTokenWith(
  alg: SessionAlg,
  keyMaterial: KeyMaterial | readonly VerificationMaterial[],
  token: string,
  nowSeconds: number = Date.now() / 1000,
  iatLeewaySeconds: number = DEFAULT_IAT_LEEWAY_SECONDS,
): Promise<SessionClaims> {
  if (alg === "HS256") {
    if (typeof keyMaterial !== "string") throw new SigningKeyError();
    return verifyHs256(keyMaterial, token, nowSeconds, iatLeewaySeconds);
  }
  if (!isAsymmetricAlg(alg)) throw new SigningKeyError();
  const list: readonly VerificationMaterial[] = Array.isArray(keyMaterial)
    ? keyMaterial
    : [{ jwk: keyMaterial as KeyMaterial }];
  const keys = await Promise.all(
    list.map(async (m): Promise<ResolvedKey> => ({
      key: await verificationKeys.get(materialId(alg, m.jwk), () => importVerificationKey(alg, m.jwk)),
      notAfter: m.notAfter,
    })),
  );
  const resolve = (kid: string) => keys.find((k) => k.key.kid === kid);
  return (await verifyAsymmetric(alg, resolve, token, nowSeconds, iatLeewaySeconds)).claims;
}

/**
 * {@link verifySessionTokenWith} that reports refusals as data instead of throwing, because a
 * custom error's `code` does not survive a worker-thread boundary. Rebuild on the main thread
 * with `new TokenError(outcome.code)` (see `TokenError.isCode`).
 */
export async function tryVerifySessionTokenWith(
  alg: SessionAlg,
  keyMaterial: KeyMaterial | readonly VerificationMaterial[],
  token: string,
  nowSeconds?: number,
  iatLeewaySeconds?: number,
): Promise<VerifyOutcome> {
  try {
    return { ok: true, claims: await verifySessionTokenWith(alg, keyMaterial, token, nowSeconds, iatLeewaySeconds) };
  } catch (e) {
    if (e instanceof TokenError || e instanceof SigningKeyError) return { ok: false, code: e.code };
    throw e;
  }
}

function materialId(alg: AsymmetricAlg, material: KeyMaterial): string {
  return `${alg}\n${typeof material === "string" ? material : JSON.stringify(material)}`;
}
