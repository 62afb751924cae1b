/**
 * EdDSA / ES256 / RS256 session tokens through jose, with the same claim checks and
 * {@link TokenError} codes as the HS256 path. Only the configured algorithm is accepted, so an
 * HS256 token forged with a public key as HMAC secret never reaches a verifier.
 */
import { CompactSign, compactVerify } from "jose";
import { parseCompactJws } from "./compact-jws.ts";
import { checkSessionClaims, encodeClaims, type SessionClaims } from "./session-claims.ts";
import type { SigningKey, AsymmetricAlg, VerificationKey } from "./signing-key.ts";
import { TokenError } from "../errors.ts";

/** A verification key together with its retirement (`notAfter`, unix seconds), if any. */
export interface ResolvedKey {
  readonly key: VerificationKey;
  readonly notAfter: number | undefined;
}

/** Finds the key for a token's `kid`; `undefined` when none matches. */
export type KeyResolver = (kid: string) => ResolvedKey | undefined;

/** Signs completed claims; the header is `{"alg","typ":"JWT","kid"}`. */
export async function signAsymmetric(key: SigningKey, claims: SessionClaims): Promise<string> {
  return new CompactSign(encodeClaims(claims, { amr: true }))
    .setProtectedHeader({ alg: key.alg, typ: "JWT", kid: key.kid })
    .sign(key.privateKey);
}

/**
 * Verifies a token signed with one of the resolver's keys. Order: shape, exact `alg`, known
 * `kid`, retirement, signature, claims. Returns the claims and the key's `notAfter` (a cache
 * must not keep the result beyond it).
 */
export async function verifyAsymmetric(
  alg: AsymmetricAlg,
  resolve: KeyResolver,
  token: string,
  nowSeconds: number,
  iatLeewaySeconds: number,
): Promise<{ claims: SessionClaims; notAfter: number | undefined }> {
  const jws = parseCompactJws(token);
  if (jws.alg !== alg) throw new TokenError("ERR_TOKEN_ALG");
  const found = jws.kid === undefined ? undefined : resolve(jws.kid);
  if (found === undefined) throw new TokenError("ERR_TOKEN_SIGNATURE");
  if (found.notAfter !== undefined && nowSeconds > found.notAfter) throw new TokenError("ERR_TOKEN_KEY_RETIRED");
  try {
    await compactVerify(token, found.key.publicKey, { algorithms: [alg] });
  } catch (e) {
    throw new TokenError(joseCode(e));
  }
  return { claims: checkSessionClaims(jws.payload, nowSeconds, iatLeewaySeconds), notAfter: found.notAfter };
}

function joseCode(e: unknown): "ERR_TOKEN_MALFORMED" | "ERR_TOKEN_ALG" | "ERR_TOKEN_SIGNATURE" {
  const code = typeof e === "object" && e !== null && "code" in e ? e.code : undefined;
  if (code === "ERR_JWS_INVALID") return "ERR_TOKEN_MALFORMED";
  if (code === "ERR_JOSE_ALG_NOT_ALLOWED") return "ERR_TOKEN_ALG";
  return "ERR_TOKEN_SIGNATURE";
}
