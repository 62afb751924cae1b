/**
 * What crosses the thread boundary between `CryptoPool` and `workers/crypto.worker.ts`: a task
 * `{op, args}` and an outcome envelope. A worker never throws for an op's own failure: it
 * returns `{ok: false, error}`, because structured cloning drops an Error's class and extra
 * fields (`code`). So any rejection from piscina itself means the pool failed (queue full,
 * worker died), never the op.
 */
import { CryptoTaskError, isExpectedCryptoError, rebuildExpectedError } from "../errors.ts";

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

/** Whether `name` is a test-only op. */
export function isTestOp(name: unknown): name is TestOpName {
  return (TEST_OPS as readonly unknown[]).includes(name);
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
