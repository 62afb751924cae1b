import type { WsConfig } from "../config/config.ts";
import type { Logger } from "../observability/logger.ts";
import type { WsMetrics } from "../observability/ws-metrics.ts";
import { ServiceError } from "../errors.ts";
import type { WsConnection } from "./connection.ts";
import { CLOSE, encodeFrame, errorFrame, exceedsBytes, parseFrame } from "./protocol.ts";
import { FRAME_MESSAGES, WsNotAuthenticatedError, WsUnknownEventError } from "./ws-errors.ts";

/** Handles one client event; the return value (or what its promise resolves to) is the ack's `data`. */
export type EventHandler = (conn: WsConnection, data: unknown) => unknown;

/** Options of a registered event. */
export interface HandlerOptions {
  /** Allowed before the socket authenticated (only `user-join` needs this). */
  anonymous?: boolean;
}

/** What the dispatcher needs from the hub. */
export interface DispatchHost {
  send(conn: WsConnection, frame: string): boolean;
  end(conn: WsConnection, code: number, reason: string): void;
}

/** Frames one socket may have waiting behind an unfinished async handler. */
const MAX_HELD_FRAMES = 64;

/**
 * Turns raw frames into handler calls: size and shape checks, acks and `error` events, and
 * strikes for bad frames (a close once `GATEHOUSE_WS_MAX_BAD_FRAMES` pile up, 1009 when the
 * last was oversize, 1008 otherwise). Frames of one socket run in order: while a handler's
 * promise is pending, later frames are held (up to a bound) and run after its ack.
 */
export class FrameDispatcher {
  readonly #handlers = new Map<string, { fn: EventHandler; anonymous: boolean }>();

  constructor(
    private readonly host: DispatchHost,
    private readonly config: Pick<WsConfig, "maxPayloadBytes" | "maxBadFrames">,
    private readonly metrics: Pick<WsMetrics, "messagesIn">,
    private readonly log: Logger,
  ) {}

  on(event: string, fn: EventHandler, opts: HandlerOptions = {}): void {
    this.#handlers.set(event, { fn, anonymous: opts.anonymous ?? false });
  }

  /** Marks the socket busy, so frames arriving meanwhile wait for {@link release}. */
  hold(conn: WsConnection): void {
    conn.held ??= [];
  }

  receive(conn: WsConnection, raw: string | ArrayBuffer | Uint8Array): void {
    if (!conn.open) return;
    this.metrics.messagesIn[conn.kind].inc();
    if (typeof raw !== "string") return this.#strike(conn, "ERR_WS_BINARY_FRAME", false);
    if (exceedsBytes(raw, this.config.maxPayloadBytes)) return this.#strike(conn, "ERR_WS_FRAME_TOO_LARGE", true);
    if (conn.held) {
      if (conn.held.length >= MAX_HELD_FRAMES) return this.host.end(conn, CLOSE.POLICY, "Too many frames in flight");
      conn.held.push(raw);
      return;
    }
    this.#process(conn, raw);
  }

  /** Runs the frames held while the socket was busy, in arrival order. */
  release(conn: WsConnection): void {
    const held = conn.held;
    conn.held = null;
    if (!held) return;
    while (held.length > 0 && conn.open) {
      this.#process(conn, held.shift()!);
      if (conn.held) {
        // Another async handler started: what is left stays ahead of anything newer.
        (conn.held as string[]).push(...held);
        return;
      }
    }
  }

  #process(conn: WsConnection, text: string): void {
    const frame = parseFrame(text);
    if (typeof frame === "string") return this.#strike(conn, frame, false);
    conn.strikes = 0;
    const h = this.#handlers.get(frame.event);
    if (!h) return this.#fail(conn, new WsUnknownEventError(), frame.id);
    if (!h.anonymous && conn.state !== "authenticated") return this.#fail(conn, new WsNotAuthenticatedError(), frame.id);
    let result: unknown;
    try {
      result = h.fn(conn, frame.data);
    } catch (e) {
      return this.#fail(conn, e, frame.id, frame.event);
    }
    if (!(result instanceof Promise)) return this.#ack(conn, result, frame.id);
    this.hold(conn);
    result
      .then((v) => this.#ack(conn, v, frame.id), (e) => this.#fail(conn, e, frame.id, frame.event))
      .finally(() => this.release(conn));
  }

  #ack(conn: WsConnection, data: unknown, id: number | undefined): void {
    if (id !== undefined && conn.open) this.host.send(conn, encodeFrame("ack", data ?? null, id));
  }

  #fail(conn: WsConnection, e: unknown, id: number | undefined, event?: string): void {
    if (!conn.open) return;
    if (e instanceof ServiceError) {
      this.host.send(conn, errorFrame(e.code, e.message, id));
      return;
    }
    this.log.error({ err: (e as Error).message, event }, "WebSocket event handler failed");
    this.host.send(conn, errorFrame("ERR_WS_INTERNAL", "Internal error", id));
  }

  #strike(conn: WsConnection, code: keyof typeof FRAME_MESSAGES, oversize: boolean): void {
    conn.strikes++;
    this.host.send(conn, errorFrame(code, FRAME_MESSAGES[code]));
    if (conn.strikes >= this.config.maxBadFrames) {
      this.host.end(conn, oversize ? CLOSE.TOO_BIG : CLOSE.POLICY, oversize ? "Frames too large" : "Too many bad frames");
    }
  }
}
