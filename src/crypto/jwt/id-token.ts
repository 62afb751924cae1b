/**
 * Provider ID-token (and logout-token) signature and claim checks against a JWKS document
 * given as plain data, so the check can run inline or on the worker pool like every other op.
 * Only asymmetric algorithms are accepted: a provider's token is never verified with a secret.
 */
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { KeyCache } from "../key-cache.ts";
import { IdTokenError } from "../errors.ts";

const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** Arguments of `idtoken.verify`. */
export interface IdTokenVerifyArgs {
  /** The provider's JWKS document. */
  readonly jwks: JSONWebKeySet;
  readonly token: string;
  readonly issuer: string;
  readonly audience: string;
  /** Refuse tokens whose `iat` is older than this (logout tokens). */
  readonly maxTokenAgeSeconds?: number;
  /** Unix seconds (default: now). */
  readonly now?: number;
}

// One key-set resolver per JWKS document (by its JSON), so repeated checks reuse imported keys.
const keySets = new KeyCache<ReturnType<typeof createLocalJWKSet>>(16);

/** Verifies signature (JWKS), `iss`, `aud`, `exp`, and optionally age; returns the payload. */
export async function verifyIdToken(args: IdTokenVerifyArgs): Promise<JWTPayload> {
  if (typeof args.token !== "string" || args.token.length > 16_384) throw new IdTokenError("ERR_IDTOKEN_INVALID");
  const docKey = JSON.stringify(args.jwks);
  const keys = await keySets.get(docKey, async () => createLocalJWKSet(args.jwks));
  try {
    const { payload } = await jwtVerify(args.token, keys, {
      issuer: args.issuer,
      audience: args.audience,
      algorithms: ASYMMETRIC,
      ...(args.maxTokenAgeSeconds !== undefined ? { maxTokenAge: args.maxTokenAgeSeconds } : {}),
      ...(args.now !== undefined ? { currentDate: new Date(args.now * 1000) } : {}),
    });
    return payload;
  } catch (e) {
    if (e instanceof errors.JWKSNoMatchingKey) throw new IdTokenError("ERR_IDTOKEN_KEY_UNKNOWN");
    if (e instanceof errors.JWSSignatureVerificationFailed) throw new IdTokenError("ERR_IDTOKEN_SIGNATURE");
    if (e instanceof errors.JWTClaimValidationFailed || e instanceof errors.JWTExpired) throw new IdTokenError("ERR_IDTOKEN_CLAIMS");
    throw new IdTokenError("ERR_IDTOKEN_INVALID");
  }
}
