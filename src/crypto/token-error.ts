/** Stable codes of {@link TokenError}; every one means "not authenticated" to the HTTP layer. */
export type TokenErrorCode =
  /** Not a compact JWS we can read: size, segments, base64url, JSON, header shape. */
  | "ERR_TOKEN_MALFORMED"
  /** The signature does not verify, or no configured key has the token's `kid`. */
  | "ERR_TOKEN_SIGNATURE"
  /** The header's `alg` is not exactly the configured algorithm (`none`, HS512, HS/RS confusion). */
  | "ERR_TOKEN_ALG"
  /** `exp` is at or before now. */
  | "ERR_TOKEN_EXPIRED"
  /** An `aud` claim is present; session tokens never carry one. */
  | "ERR_TOKEN_AUDIENCE"
  /** `iat` (or `nbf`) lies further in the future than the allowed clock skew. */
  | "ERR_TOKEN_IAT_FUTURE"
  /** Claims of the wrong type, or no string `id`. */
  | "ERR_TOKEN_CLAIMS"
  /** Signed by a retired key whose `notAfter` has passed. */
  | "ERR_TOKEN_KEY_RETIRED";

const MESSAGES: Record<TokenErrorCode, string> = {
  ERR_TOKEN_MALFORMED: "Malformed token",
  ERR_TOKEN_SIGNATURE: "Invalid token signature",
  ERR_TOKEN_ALG: "Token algorithm not allowed",
  ERR_TOKEN_EXPIRED: "Token has expired",
  ERR_TOKEN_AUDIENCE: "Invalid token audience",
  ERR_TOKEN_IAT_FUTURE: "Token is not yet valid",
  ERR_TOKEN_CLAIMS: "Invalid token claims",
  ERR_TOKEN_KEY_RETIRED: "Token signing key has been retired",
};

/**
 * A session token was refused (or claims could not be signed). The message is fixed per code
 * and never contains the token, its claims or key material, so it is safe to log.
 */
export class TokenError extends Error {
  constructor(readonly code: TokenErrorCode) {
    super(MESSAGES[code]);
    this.name = "TokenError";
  }

  /** Whether `code` is a {@link TokenErrorCode} (e.g. one returned from a worker thread). */
  static isCode(code: unknown): code is TokenErrorCode {
    return typeof code === "string" && Object.hasOwn(MESSAGES, code);
  }
}
