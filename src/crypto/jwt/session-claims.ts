/**
 * Open WebUI session claims: building them in its exact order and checking them as PyJWT's
 * `jwt.decode(token, key, algorithms=["HS256"])` plus Open WebUI's `"id" in data` check do.
 */
import { encodeBase64Url } from "../base64url.ts";
import { pythonJsonDumps } from "../python-json.ts";
import { TokenError } from "../errors.ts";

/** Verified session claims. Legacy Open WebUI tokens carry only `id`. Frozen. */
export interface SessionClaims {
  readonly id: string;
  readonly exp?: number;
  readonly jti?: string;
  readonly iat?: number;
  /** Authentication methods (RFC 8176); asymmetric tokens only — HS256 tokens never carry it. */
  readonly amr?: readonly string[];
}

/** Claims to sign. `jti` defaults to a fresh UUIDv4 and `iat` to now; `exp` null/absent = never. */
export interface SessionClaimsInput {
  readonly id: string;
  readonly exp?: number | null;
  readonly jti?: string;
  readonly iat?: number;
  readonly amr?: readonly string[];
}

/**
 * Default allowance for `iat`/`nbf` in the future. PyJWT allows none, but instances' clocks
 * drift; a token from a peer a few seconds ahead is still authentic, and accepting it changes
 * nothing for revocation (`iat <= revoked_at`). `exp` gets no leeway, exactly as in PyJWT.
 */
export const DEFAULT_IAT_LEEWAY_SECONDS = 30;

const encoder = new TextEncoder();

/** Fills `jti`/`iat` and validates types; throws `ERR_TOKEN_CLAIMS` for unusable input. */
export function completeClaims(input: SessionClaimsInput, nowSeconds: number): SessionClaims {
  const { id, exp, jti = crypto.randomUUID(), iat = Math.floor(nowSeconds), amr } = input;
  if (typeof id !== "string" || id === "" || typeof jti !== "string") throw new TokenError("ERR_TOKEN_CLAIMS");
  if (!Number.isSafeInteger(iat) || (exp != null && !Number.isSafeInteger(exp))) {
    throw new TokenError("ERR_TOKEN_CLAIMS");
  }
  if (amr !== undefined && !isAmr(amr)) throw new TokenError("ERR_TOKEN_CLAIMS");
  const base = exp == null ? { id, jti, iat } : { id, exp, jti, iat };
  return Object.freeze(amr === undefined || amr.length === 0 ? base : { ...base, amr: Object.freeze([...amr]) });
}

/**
 * The payload bytes: compact JSON in the order `id, exp, jti, iat` with `ensure_ascii`, which
 * is what PyJWT writes, so equal claims give byte-identical tokens.
 */
export function encodeClaims(claims: SessionClaims, opts: { amr?: boolean } = {}): Uint8Array<ArrayBuffer> {
  const ordered: Record<string, unknown> = { id: claims.id };
  if (claims.exp !== undefined) ordered.exp = claims.exp;
  if (claims.jti !== undefined) ordered.jti = claims.jti;
  if (claims.iat !== undefined) ordered.iat = claims.iat;
  // Only asymmetric tokens (Gatehouse's own format) say how the session was made.
  if (opts.amr === true && claims.amr !== undefined) ordered.amr = claims.amr;
  return encoder.encode(pythonJsonDumps(ordered, { separators: [",", ":"] }));
}

/** {@link encodeClaims} as a base64url JWS payload segment. */
export function encodeClaimsSegment(claims: SessionClaims): string {
  return encodeBase64Url(encodeClaims(claims));
}

/**
 * Checks an authenticated payload in PyJWT's order (iat, nbf, exp, aud) and then Open WebUI's
 * `id`. Numeric claims are truncated like PyJWT's `int(...)`; `exp <= now` is expired.
 */
export function checkSessionClaims(
  payload: Readonly<Record<string, unknown>>,
  nowSeconds: number,
  iatLeewaySeconds: number,
): SessionClaims {
  const { id, exp, jti, iat, nbf, amr } = payload;
  if (!optionalNumber(iat) || !optionalNumber(nbf) || !optionalNumber(exp)) throw new TokenError("ERR_TOKEN_CLAIMS");
  if (iat !== undefined && Math.trunc(iat) > nowSeconds + iatLeewaySeconds) throw new TokenError("ERR_TOKEN_IAT_FUTURE");
  if (nbf !== undefined && Math.trunc(nbf) > nowSeconds + iatLeewaySeconds) throw new TokenError("ERR_TOKEN_IAT_FUTURE");
  if (exp !== undefined && Math.trunc(exp) <= nowSeconds) throw new TokenError("ERR_TOKEN_EXPIRED");
  if (Object.hasOwn(payload, "aud")) throw new TokenError("ERR_TOKEN_AUDIENCE");
  if (typeof id !== "string" || id === "" || (jti !== undefined && typeof jti !== "string")) {
    throw new TokenError("ERR_TOKEN_CLAIMS");
  }
  const claims: { id: string; exp?: number; jti?: string; iat?: number; amr?: readonly string[] } = { id };
  if (exp !== undefined) claims.exp = exp;
  if (jti !== undefined) claims.jti = jti;
  if (iat !== undefined) claims.iat = iat;
  if (isAmr(amr)) claims.amr = Object.freeze([...amr]);
  return Object.freeze(claims);
}

/** Whether an already-checked claim set is expired at `nowSeconds` (for cache hits). */
export function isExpired(claims: SessionClaims, nowSeconds: number): boolean {
  return claims.exp !== undefined && Math.trunc(claims.exp) <= nowSeconds;
}

function isAmr(v: unknown): v is readonly string[] {
  return Array.isArray(v) && v.length <= 8 && v.every((m) => typeof m === "string" && m.length <= 16);
}

function optionalNumber(v: unknown): v is number | undefined {
  return v === undefined || (typeof v === "number" && Number.isFinite(v));
}
