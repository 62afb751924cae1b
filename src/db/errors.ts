import { ServiceError } from "../errors.ts";

/** No connection became free within `DATABASE_POOL_TIMEOUT`. */
export class CheckoutTimeoutError extends ServiceError {
  constructor(readonly op: string, readonly waitedMs: number) {
    super("ERR_DB_CHECKOUT_TIMEOUT", 503, "Database is busy: no connection became available in time. Please retry.", 1);
  }
}

/** `GATEHOUSE_DB_MAX_WAITERS` requests are already queued; refused without waiting. */
export class PoolSaturatedError extends ServiceError {
  constructor(readonly op: string) {
    super("ERR_DB_POOL_SATURATED", 503, "Database is overloaded: too many requests are waiting. Please retry.", 1);
  }
}

/** The database could not be reached (connect refused, terminated, DNS). */
export class DatabaseUnavailableError extends ServiceError {
  constructor(readonly op: string, cause: unknown) {
    super("ERR_DB_UNAVAILABLE", 503, "Database is unavailable. Please retry.", 1);
    this.cause = cause;
  }
}
