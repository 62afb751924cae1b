import { ServiceError } from "../errors.ts";

/** Client-supplied text quoted in a detail is cut to this many characters. */
const QUOTE_MAX = 200;

/** Quotes a model id (or other client/upstream text) safely and briefly. */
export function quote(text: string): string {
  const t = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  return t.length > QUOTE_MAX ? `${t.slice(0, QUOTE_MAX)}…` : t;
}

/** Neither OPENAI_API_BASE_URL nor OPENAI_API_BASE_URLS is set. */
export class NoUpstreamError extends ServiceError {
  constructor() {
    super("ERR_GATEWAY_NO_UPSTREAM", 503, "No LLM upstream is configured: set OPENAI_API_BASE_URL (or OPENAI_API_BASE_URLS)");
  }
}

/** The request body is not a chat completion request the gateway can route. */
export class InvalidChatRequestError extends ServiceError {
  constructor(message: string) {
    super("ERR_GATEWAY_BAD_REQUEST", 400, message);
  }
}

/** The user already has `GATEHOUSE_GATEWAY_MAX_STREAMS_PER_USER` chat calls open on this instance. */
export class TooManyStreamsError extends ServiceError {
  constructor(limit: number, retryAfterSeconds: number) {
    super("ERR_GATEWAY_TOO_MANY_STREAMS", 429, `Too many concurrent chat streams: at most ${limit} per user; retry when one has ended`, retryAfterSeconds);
  }
}

/** The user has no grant for the model (admins always have). */
export class ModelAccessDeniedError extends ServiceError {
  constructor(readonly model: string) {
    super("ERR_MODEL_ACCESS_DENIED", 403, `You do not have access to model '${quote(model)}'`);
  }
}

/** No upstream lists the model (only when several upstreams are configured). */
export class ModelNotFoundError extends ServiceError {
  constructor(readonly model: string) {
    super("ERR_MODEL_NOT_FOUND", 404, `Model '${quote(model)}' not found`);
  }
}

/**
 * The upstream answered with an error status. 5xx and auth failures (our key, not the
 * client's) become 502; an upstream 504 stays 504; errors that are the client's to fix
 * (400, 404, 413, 422, 429) keep their status. The detail always names the upstream status.
 */
export class UpstreamStatusError extends ServiceError {
  constructor(readonly upstreamStatus: number, upstreamMessage: string | null) {
    super(
      "ERR_UPSTREAM_STATUS",
      statusFor(upstreamStatus),
      `LLM upstream answered HTTP ${upstreamStatus}${upstreamMessage ? `: ${quote(upstreamMessage)}` : ""}`,
    );
  }
}

const PASSED_THROUGH = new Set([400, 404, 413, 422, 429]);

function statusFor(upstream: number): number {
  if (PASSED_THROUGH.has(upstream)) return upstream;
  if (upstream === 504 || upstream === 408) return 504;
  return 502;
}

/** No progress from the upstream within GATEHOUSE_UPSTREAM_TIMEOUT_MS. */
export class UpstreamTimeoutError extends ServiceError {
  constructor(readonly timeoutMs: number) {
    super("ERR_UPSTREAM_TIMEOUT", 504, `LLM upstream did not respond within ${timeoutMs} ms (GATEHOUSE_UPSTREAM_TIMEOUT_MS)`);
  }
}

/** The upstream could not be reached (refused, reset, DNS). */
export class UpstreamUnreachableError extends ServiceError {
  constructor(reason: string) {
    super("ERR_UPSTREAM_UNREACHABLE", 502, `LLM upstream is unreachable: ${reason}`);
  }
}

/** The upstream answered 2xx with something that is not what OpenAI's API sends. */
export class UpstreamMalformedError extends ServiceError {
  constructor(reason: string) {
    super("ERR_UPSTREAM_MALFORMED", 502, `LLM upstream sent a malformed response: ${reason}`);
  }
}

/** The client went away before the response started (nobody reads this answer). */
export class ClientClosedError extends ServiceError {
  constructor() {
    super("ERR_CLIENT_CLOSED", 499, "Client closed the request");
  }
}

/** The upstream answered 200 but its first event was an error. */
export class UpstreamErrorEventError extends ServiceError {
  constructor(message: string) {
    super("ERR_UPSTREAM_ERROR_EVENT", 502, `LLM upstream reported an error: ${message.slice(0, 200)}`);
  }
}
