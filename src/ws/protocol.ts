/**
 * The wire protocol of `/ws`: JSON text frames `{"event": string, "data": any, "id"?: number}`.
 * A frame with an `id` is answered by `{"event": "ack", "id": n, "data": ...}` or, when it
 * fails, by `{"event": "error", "id": n, "data": {"code", "message"}}`.
 */

/** A parsed client frame. */
export interface ClientFrame {
  event: string;
  data: unknown;
  id?: number;
}

/** Close codes the hub uses. */
export const CLOSE = {
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** Repeated bad frames, or too many sockets for one user. */
  POLICY: 1008,
  /** Repeated oversize frames. */
  TOO_BIG: 1009,
  /** An unexpected server error. */
  INTERNAL: 1011,
  /** The client reads too slowly (backpressure), or a dependency is down: retry later. */
  TRY_LATER: 1013,
  /** Not authenticated, or the session ended (revoked, signed out, demoted, deleted, expired). */
  UNAUTHORIZED: 4001,
} as const;

/** Longest event name accepted; real ones are a few words. */
const MAX_EVENT_LENGTH = 128;

/** Why a frame could not be read (sent back as an `error` event's `code`). */
export type FrameProblem = "ERR_WS_BINARY_FRAME" | "ERR_WS_NOT_JSON" | "ERR_WS_BAD_FRAME";

/** Parses one text frame; returns the problem instead of throwing. */
export function parseFrame(text: string): ClientFrame | FrameProblem {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return "ERR_WS_NOT_JSON";
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "ERR_WS_BAD_FRAME";
  const o = v as Record<string, unknown>;
  if (typeof o["event"] !== "string" || o["event"] === "" || o["event"].length > MAX_EVENT_LENGTH) return "ERR_WS_BAD_FRAME";
  const id = o["id"];
  if (id !== undefined && !(typeof id === "number" && Number.isSafeInteger(id) && id >= 0)) return "ERR_WS_BAD_FRAME";
  return id === undefined ? { event: o["event"], data: o["data"] } : { event: o["event"], data: o["data"], id };
}

/** A server frame, serialised once and sent as is to every socket it reaches. */
export function encodeFrame(event: string, data: unknown, id?: number): string {
  return JSON.stringify(id === undefined ? { event, data } : { event, id, data });
}

/** The `error` event for a failed frame or a refused operation. */
export function errorFrame(code: string, message: string, id?: number): string {
  return encodeFrame("error", { code, message }, id);
}

/** UTF-8 length of `s` without allocating (only called when the length could matter). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** True when `s` encodes to more than `max` UTF-8 bytes; cheap for short strings. */
export function exceedsBytes(s: string, max: number): boolean {
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return utf8Length(s) > max;
}
