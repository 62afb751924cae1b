/**
 * Base for errors that carry their own HTTP meaning. The HTTP layer answers
 * `status` with `{"detail": message}` (and `Retry-After` when set); the message is
 * written for the client and never contains secrets or tokens.
 */
export class ServiceError extends Error {
  constructor(
    /** Stable machine-readable code, e.g. `ERR_DB_CHECKOUT_TIMEOUT`. */
    readonly code: string,
    /** HTTP status to answer with. */
    readonly status: number,
    message: string,
    /** Seconds for a `Retry-After` header, when retrying makes sense. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
