import { ServiceError } from "../errors.ts";

/**
 * A refusal the hub reports to the client as an `error` event `{code, message}`. It is a
 * {@link ServiceError}, so code that emits from an HTTP route gets a proper status too.
 * Messages never carry tokens or user data.
 */
export class WsError extends ServiceError {
  constructor(code: string, message: string, status = 400) {
    super(code, status, message);
  }
}

/** An emit whose frame would exceed `GATEHOUSE_WS_MAX_PAYLOAD`: refused, never silently dropped. */
export class WsPayloadTooLargeError extends WsError {
  constructor(
    /** The frame's size in bytes. */
    readonly bytes: number,
    /** The configured limit in bytes. */
    readonly limit: number,
  ) {
    super("ERR_WS_PAYLOAD_TOO_LARGE", `WebSocket payload of ${bytes} bytes exceeds the limit of ${limit} bytes (GATEHOUSE_WS_MAX_PAYLOAD)`, 413);
  }
}

/** An event that needs an authenticated socket arrived before `user-join` succeeded. */
export class WsNotAuthenticatedError extends WsError {
  constructor() {
    super("ERR_WS_NOT_AUTHENTICATED", "Not authenticated", 401);
  }
}

/** No handler is registered for the event. */
export class WsUnknownEventError extends WsError {
  constructor() {
    super("ERR_WS_UNKNOWN_EVENT", "Unknown event");
  }
}

/** The event's `data` does not have the expected shape. */
export class WsBadRequestError extends WsError {
  constructor(message: string) {
    super("ERR_WS_BAD_REQUEST", message);
  }
}

/** Client-facing texts for frames that could not be read. */
export const FRAME_MESSAGES = {
  ERR_WS_BINARY_FRAME: "Binary frames are not supported; send JSON text frames",
  ERR_WS_NOT_JSON: "Frame is not valid JSON",
  ERR_WS_BAD_FRAME: 'Frame must be a JSON object {"event": string, "data": any, "id"?: non-negative integer}',
  ERR_WS_FRAME_TOO_LARGE: "Frame exceeds the maximum payload size",
} as const;
