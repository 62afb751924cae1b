/**
 * Failures of the crypto worker pool itself, as opposed to an op's own expected errors
 * (`FernetError`, `TokenError`, …), which reach the caller unchanged. Messages name the op at
 * most, never its arguments.
 */
import { ServiceError } from "../errors.ts";

/** The pool's bounded queue is full: back off and retry (503, `Retry-After: 1`). */
export class CryptoQueueFullError extends ServiceError {
  constructor(readonly op: string) {
    super("ERR_CRYPTO_QUEUE_FULL", 503, "Server is busy, please retry", 1);
  }
}

/** An op failed in an unexpected way (a bug or a library fault), inline or in a worker. */
export class CryptoTaskError extends ServiceError {
  constructor(
    readonly op: string,
    /** The original error's class name (its message may quote inputs, so it is not kept). */
    readonly errorName: string,
  ) {
    super("ERR_CRYPTO_TASK_FAILED", 500, "Internal error");
  }
}

/** The worker thread running this task died (it is replaced; other tasks are unaffected). */
export class CryptoWorkerDiedError extends ServiceError {
  constructor(readonly op: string) {
    super("ERR_CRYPTO_WORKER_DIED", 503, "Server is busy, please retry", 1);
  }
}

/** The task was not answered within the pool's deadline (queue wait included). */
export class CryptoTaskTimeoutError extends ServiceError {
  constructor(readonly op: string) {
    super("ERR_CRYPTO_TASK_TIMEOUT", 503, "Server is busy, please retry", 1);
  }
}

/** The pool is closing or closed and takes no new tasks. */
export class CryptoPoolClosedError extends ServiceError {
  constructor(readonly op: string) {
    super("ERR_CRYPTO_POOL_CLOSED", 503, "Server is shutting down", 1);
  }
}
