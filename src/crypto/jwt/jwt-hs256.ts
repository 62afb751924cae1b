/**
 * The direct HS256 path for Open WebUI session tokens: no JOSE library on the hot path, one
 * cached HMAC `CryptoKey` per secret, constant-time comparison through `crypto.subtle.verify`.
 */
import { encodeBase64Url } from "../base64url.ts";
import { parseCompactJws } from "./compact-jws.ts";
import { KeyCache } from "../key-cache.ts";
import { checkSessionClaims, encodeClaimsSegment, type SessionClaims } from "./session-claims.ts";
import { SigningKeyError, TokenError } from "../errors.ts";

/** base64url of `{"alg":"HS256","typ":"JWT"}`, PyJWT's header with `sort_headers=True`. */
export const HS256_HEADER_SEGMENT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

const encoder = new TextEncoder();
const hmacKeys = new KeyCache<CryptoKey>(8);

/** The HMAC-SHA256 key for a secret (UTF-8, as PyJWT encodes a `str` key); cached per secret. */
export function hmacKeyFor(secret: string): Promise<CryptoKey> {
  if (typeof secret !== "string" || secret === "") return Promise.reject(new SigningKeyError());
  return hmacKeys.get(secret, () =>
    crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]),
  );
}

/** Signs completed claims as PyJWT's `jwt.encode(claims, secret, algorithm="HS256")` would. */
export async function signHs256(secret: string, claims: SessionClaims): Promise<string> {
  const key = await hmacKeyFor(secret);
  const input = `${HS256_HEADER_SEGMENT}.${encodeClaimsSegment(claims)}`;
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(input));
  return `${input}.${encodeBase64Url(new Uint8Array(mac))}`;
}

/**
 * Verifies an HS256 session token: shape, `alg` exactly HS256, MAC, then claims. Throws
 * {@link TokenError}.
 */
export async function verifyHs256(
  secret: string,
  token: string,
  nowSeconds: number,
  iatLeewaySeconds: number,
): Promise<SessionClaims> {
  const jws = parseCompactJws(token);
  if (jws.alg !== "HS256") throw new TokenError("ERR_TOKEN_ALG");
  if (jws.signature.length !== 32) throw new TokenError("ERR_TOKEN_SIGNATURE");
  const key = await hmacKeyFor(secret);
  if (!(await crypto.subtle.verify("HMAC", key, jws.signature, jws.signingInput))) {
    throw new TokenError("ERR_TOKEN_SIGNATURE");
  }
  return checkSessionClaims(jws.payload, nowSeconds, iatLeewaySeconds);
}
