/**
 * Base for errors that carry their own HTTP meaning. The HTTP layer answers
 * `status` with `{"detail": message}` (plus `Retry-After` when set, and any extra
 * headers such as cookie deletions); the message is written for the client and never
 * contains secrets or tokens.
 */
export class ServiceError extends Error {
  /** Headers to add to the error response, e.g. `["set-cookie", "token=; Max-Age=0; ..."]`. */
  readonly headers: Array<[string, string]> = [];

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

  /** Adds a response header (chainable). */
  withHeader(name: string, value: string): this {
    this.headers.push([name, value]);
    return this;
  }
}
