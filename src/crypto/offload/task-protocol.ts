/**
 * What crosses the thread boundary between `CryptoPool` and `workers/crypto.worker.ts`: a task
 * `{op, args}` and an outcome envelope. A worker never throws for an op's own failure: it
 * returns `{ok: false, error}`, because structured cloning drops an Error's class and extra
 * fields (`code`). So any rejection from piscina itself means the pool failed (queue full,
 * worker died), never the op.
 */
import { FernetError, type FernetErrorCode } from "../fernet.ts";
import { SigningKeyError, type SigningKeyErrorCode } from "../signing-key-error.ts";
import { TokenError } from "../token-error.ts";
import { IdTokenError } from "../jwt/id-token.ts";
import { CryptoTaskError } from "../errors.ts";

/** Ops that exist only in the worker and only when the pool allows test ops. */
export const TEST_OPS = Object.freeze(["crash"] as const);

/** Name of a test-only op. */
export type TestOpName = (typeof TEST_OPS)[number];

/** Arguments of the `crash` test op: end the worker thread by `process.exit` or an uncaught throw. */
export interface CrashArgs {
  readonly how?: "exit" | "throw";
}

/** The message a worker receives. */
export interface CryptoTask {
  readonly op: string;
  readonly args: unknown;
}

/** An op's failure as plain data: a code we can rebuild, or only the class name of a surprise. */
export type EncodedTaskError =
  | { readonly expected: true; readonly code: string }
  | { readonly expected: false; readonly name: string };

/** The message a worker answers with. */
export type TaskOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: EncodedTaskError };

// Records, not arrays, so adding a code to either union without listing it here fails to compile.
const FERNET_CODES: Readonly<Record<FernetErrorCode, true>> = {
  ERR_FERNET_INVALID: true,
  ERR_FERNET_EXPIRED: true,
  ERR_FERNET_KEY: true,
};
const SIGNING_KEY_CODES: Readonly<Record<SigningKeyErrorCode, true>> = {
  ERR_SIGNING_KEY_INVALID: true,
  ERR_SIGNING_KEY_MISSING: true,
};

/** Whether `name` is a test-only op. */
export function isTestOp(name: unknown): name is TestOpName {
  return (TEST_OPS as readonly unknown[]).includes(name);
}

/**
 * Whether `err` is an op's *expected* failure (bad token, bad key…), which callers handle by
 * code and which must reach them with its class and code intact, inline or pooled.
 */
export function isExpectedCryptoError(err: unknown): err is FernetError | TokenError | SigningKeyError | IdTokenError {
  return err instanceof FernetError || err instanceof TokenError || err instanceof SigningKeyError || err instanceof IdTokenError;
}

/** Rebuilds an expected error from its code, or null for a code no known class has. */
export function rebuildExpectedError(code: string): FernetError | TokenError | SigningKeyError | IdTokenError | null {
  if (TokenError.isCode(code)) return new TokenError(code);
  if (IdTokenError.isCode(code)) return new IdTokenError(code);
  if (Object.hasOwn(FERNET_CODES, code)) return new FernetError(code as FernetErrorCode);
  if (Object.hasOwn(SIGNING_KEY_CODES, code)) return new SigningKeyError(code as SigningKeyErrorCode);
  return null;
}

/** Worker side: an op's thrown value as plain data. Unexpected messages are dropped (they may quote inputs). */
export function encodeTaskError(err: unknown): EncodedTaskError {
  if (isExpectedCryptoError(err)) return { expected: true, code: err.code };
  const name = err instanceof Error ? err.name : typeof err;
  return { expected: false, name };
}

/** Main-thread side: the error to reject the caller with. */
export function decodeTaskError(op: string, encoded: EncodedTaskError): Error {
  if (encoded.expected) {
    const rebuilt = rebuildExpectedError(encoded.code);
    if (rebuilt !== null) return rebuilt;
    return new CryptoTaskError(op, "UnknownErrorCode");
  }
  return new CryptoTaskError(op, encoded.name);
}

/**
 * Inline side: the same contract as a pooled run. Expected errors pass through unchanged; anything
 * else becomes a {@link CryptoTaskError} carrying only the class name, exactly as from a worker
 * (no `cause`: the original message may quote a password or key, and loggers print causes).
 */
export function normaliseInlineError(op: string, err: unknown): Error {
  if (isExpectedCryptoError(err)) return err;
  return new CryptoTaskError(op, err instanceof Error ? err.name : typeof err);
}
