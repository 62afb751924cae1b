/**
 * Every error crypto/ raises, with one code union (as jose's `util/errors.ts`).
 *
 * Two kinds: an op's own *expected* failures (a refused token, an unusable key, a bad Fernet
 * token, a refused provider ID token), which reach the caller with class and code intact,
 * inline or from a worker thread; and failures of the worker pool itself, which carry their
 * HTTP meaning. No message contains a token, claims, key material or an op's arguments, so
 * every one is safe to log.
 */
import { ServiceError } from "../errors.ts";

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

/** Stable codes of {@link SigningKeyError}. */
export type SigningKeyErrorCode =
  /** Not a PKCS#8 PEM or JWK for the configured algorithm, or an empty HMAC secret. */
  | "ERR_SIGNING_KEY_INVALID"
  /** No unretired key is left to sign with. */
  | "ERR_SIGNING_KEY_MISSING";

/** Stable codes of {@link FernetError}. */
export type FernetErrorCode =
  /** Not a token this key made: bad encoding, version, length, MAC, padding or clock skew. */
  | "ERR_FERNET_INVALID"
  /** Authentic, but older than the `ttlSeconds` the caller allowed. */
  | "ERR_FERNET_EXPIRED"
  /** The key is not 32 bytes of padded URL-safe base64. */
  | "ERR_FERNET_KEY";

/** Why an ID token was refused. `ERR_IDTOKEN_KEY_UNKNOWN` means: refetch the JWKS and try again. */
export type IdTokenErrorCode = "ERR_IDTOKEN_INVALID" | "ERR_IDTOKEN_SIGNATURE" | "ERR_IDTOKEN_CLAIMS" | "ERR_IDTOKEN_KEY_UNKNOWN";

/** Codes of the worker pool's own failures (the `CryptoPool…`/`CryptoTask…` classes below). */
export type CryptoPoolErrorCode =
  | "ERR_CRYPTO_QUEUE_FULL"
  | "ERR_CRYPTO_TASK_FAILED"
  | "ERR_CRYPTO_WORKER_DIED"
  | "ERR_CRYPTO_TASK_TIMEOUT"
  | "ERR_CRYPTO_POOL_CLOSED";

/** Codes of an op's expected failures: these cross the thread boundary and are rebuilt there. */
export type ExpectedCryptoErrorCode = TokenErrorCode | SigningKeyErrorCode | FernetErrorCode | IdTokenErrorCode;

/** Every code a crypto/ error carries. */
export type CryptoErrorCode = ExpectedCryptoErrorCode | CryptoPoolErrorCode;

// A record, not an array, so a code added to a union without a message here fails to compile.
const MESSAGES: Readonly<Record<ExpectedCryptoErrorCode, string>> = {
  ERR_TOKEN_MALFORMED: "Malformed token",
  ERR_TOKEN_SIGNATURE: "Invalid token signature",
  ERR_TOKEN_ALG: "Token algorithm not allowed",
  ERR_TOKEN_EXPIRED: "Token has expired",
  ERR_TOKEN_AUDIENCE: "Invalid token audience",
  ERR_TOKEN_IAT_FUTURE: "Token is not yet valid",
  ERR_TOKEN_CLAIMS: "Invalid token claims",
  ERR_TOKEN_KEY_RETIRED: "Token signing key has been retired",
  ERR_SIGNING_KEY_INVALID: "Signing key is not usable for the configured algorithm",
  ERR_SIGNING_KEY_MISSING: "No active signing key",
  ERR_FERNET_INVALID: "Invalid Fernet token",
  ERR_FERNET_EXPIRED: "Fernet token has expired",
  ERR_FERNET_KEY: "Fernet key must be 32 url-safe base64-encoded bytes",
  ERR_IDTOKEN_INVALID: "ID token refused (ERR_IDTOKEN_INVALID)",
  ERR_IDTOKEN_SIGNATURE: "ID token refused (ERR_IDTOKEN_SIGNATURE)",
  ERR_IDTOKEN_CLAIMS: "ID token refused (ERR_IDTOKEN_CLAIMS)",
  ERR_IDTOKEN_KEY_UNKNOWN: "ID token refused (ERR_IDTOKEN_KEY_UNKNOWN)",
};

/** Base of an op's expected failures: a fixed message per code, named after the subclass. */
export abstract class CryptoOpError<C extends ExpectedCryptoErrorCode = ExpectedCryptoErrorCode> extends Error {
  constructor(readonly code: C) {
    super(MESSAGES[code]);
    this.name = new.target.name;
  }
}

/**
 * A session token was refused (or claims could not be signed). The message is fixed per code
 * and never contains the token, its claims or key material, so it is safe to log.
 */
export class TokenError extends CryptoOpError<TokenErrorCode> {
  /** Whether `code` is a {@link TokenErrorCode} (e.g. one returned from a worker thread). */
  static isCode(code: unknown): code is TokenErrorCode {
    return typeof code === "string" && code.startsWith("ERR_TOKEN_") && Object.hasOwn(MESSAGES, code);
  }
}

/**
 * Key configuration is unusable. Raised at startup or rotation, never per request; the message
 * never contains key material (library errors, which might quote it, are not passed on).
 */
export class SigningKeyError extends CryptoOpError<SigningKeyErrorCode> {
  constructor(code: SigningKeyErrorCode = "ERR_SIGNING_KEY_INVALID") {
    super(code);
  }
}

/** A Fernet failure. The message is fixed per code and never contains key or token material. */
export class FernetError extends CryptoOpError<FernetErrorCode> {}

/** A refused provider ID token (or logout token); the message never quotes the token. */
export class IdTokenError extends CryptoOpError<IdTokenErrorCode> {
  /** Whether `x` is one of this class's codes. */
  static isCode(x: unknown): x is IdTokenErrorCode {
    return typeof x === "string" && x.startsWith("ERR_IDTOKEN_") && Object.hasOwn(MESSAGES, x);
  }
}

/** Whether `err` is an op's expected failure, handled by callers by code. */
export function isExpectedCryptoError(err: unknown): err is CryptoOpError {
  return err instanceof CryptoOpError;
}

/** Rebuilds an expected error (class and code) from its code, or null for a code no class has. */
export function rebuildExpectedError(code: string): CryptoOpError | null {
  if (!Object.hasOwn(MESSAGES, code)) return null;
  const c = code as ExpectedCryptoErrorCode;
  if (c.startsWith("ERR_TOKEN_")) return new TokenError(c as TokenErrorCode);
  if (c.startsWith("ERR_SIGNING_KEY_")) return new SigningKeyError(c as SigningKeyErrorCode);
  if (c.startsWith("ERR_FERNET_")) return new FernetError(c as FernetErrorCode);
  return new IdTokenError(c as IdTokenErrorCode);
}

/** Base of the worker pool's own failures (HTTP 500/503), as opposed to an op's expected errors. */
abstract class CryptoPoolError extends ServiceError {
  declare readonly code: CryptoPoolErrorCode;
  constructor(
    code: CryptoPoolErrorCode,
    status: number,
    message: string,
    /** The op that failed; messages name the op at most, never its arguments. */
    readonly op: string,
    retryAfterSeconds?: number,
  ) {
    super(code, status, message, retryAfterSeconds);
  }
}

/** The pool's bounded queue is full: back off and retry (503, `Retry-After: 1`). */
export class CryptoQueueFullError extends CryptoPoolError {
  constructor(op: string) {
    super("ERR_CRYPTO_QUEUE_FULL", 503, "Server is busy, please retry", op, 1);
  }
}

/** An op failed in an unexpected way (a bug or a library fault), inline or in a worker. */
export class CryptoTaskError extends CryptoPoolError {
  constructor(
    op: string,
    /** The original error's class name (its message may quote inputs, so it is not kept). */
    readonly errorName: string,
  ) {
    super("ERR_CRYPTO_TASK_FAILED", 500, "Internal error", op);
  }
}

/** The worker thread running this task died (it is replaced; other tasks are unaffected). */
export class CryptoWorkerDiedError extends CryptoPoolError {
  constructor(op: string) {
    super("ERR_CRYPTO_WORKER_DIED", 503, "Server is busy, please retry", op, 1);
  }
}

/** The task was not answered within the pool's deadline (queue wait included). */
export class CryptoTaskTimeoutError extends CryptoPoolError {
  constructor(op: string) {
    super("ERR_CRYPTO_TASK_TIMEOUT", 503, "Server is busy, please retry", op, 1);
  }
}

/** The pool is closing or closed and takes no new tasks. */
export class CryptoPoolClosedError extends CryptoPoolError {
  constructor(op: string) {
    super("ERR_CRYPTO_POOL_CLOSED", 503, "Server is shutting down", op, 1);
  }
}
