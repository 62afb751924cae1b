import { ServiceError } from "../errors.ts";
import { MESSAGES } from "./messages.ts";

/** 401 with one of Open WebUI's messages. */
export class UnauthorizedError extends ServiceError {
  constructor(message: string = MESSAGES.UNAUTHORIZED, code = "ERR_UNAUTHORIZED") {
    super(code, 401, message);
  }
}

/** 403 with one of Open WebUI's messages. */
export class ForbiddenError extends ServiceError {
  constructor(message: string = MESSAGES.ACCESS_PROHIBITED, code = "ERR_FORBIDDEN") {
    super(code, 403, message);
  }
}

/** 400 with one of Open WebUI's messages. */
export class BadRequestError extends ServiceError {
  constructor(message: string, code = "ERR_BAD_REQUEST") {
    super(code, 400, message);
  }
}

/** 404 with Open WebUI's message. */
export class NotFoundError extends ServiceError {
  constructor(message: string = MESSAGES.NOT_FOUND) {
    super("ERR_NOT_FOUND", 404, message);
  }
}

/** 429 with `Retry-After`. */
export class RateLimitedError extends ServiceError {
  constructor(retryAfterSeconds: number) {
    super("ERR_RATE_LIMITED", 429, MESSAGES.RATE_LIMIT_EXCEEDED, Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}
