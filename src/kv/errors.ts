import { ServiceError } from "../errors.ts";

/** The shared store (Redis) cannot be reached. Never carries the URL (it may hold a password). */
export class StoreUnavailableError extends ServiceError {
  constructor(cause?: unknown) {
    super("ERR_STORE_UNAVAILABLE", 503, "Shared store is unavailable. Please retry.", 1);
    if (cause !== undefined) this.cause = cause;
  }
}
