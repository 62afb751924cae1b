import type { Socket } from "socket.io";
import type { WsTransport } from "./transport.ts";
import { CLOSE } from "./protocol.ts";

/** A server frame of the hub's protocol, decoded back into an event for Socket.IO. */
interface DecodedFrame {
  event: string;
  id?: number;
  data: unknown;
  /** The Socket.IO packet, encoded once for every socket the frame goes to. */
  encoded?: unknown[];
}

/** Acks one socket may have outstanding (the hub holds at most 64 frames per socket). */
const MAX_PENDING_ACKS = 64;

/** socket.io-parser's EVENT packet type. */
const EVENT = 2;

/** Acks awaited by the client, keyed by the local frame id the hub answers with. */
type Ack = (...args: unknown[]) => void;

/**
 * The hub's transport over one Socket.IO socket. The hub speaks `/ws` frames
 * (`{event, data, id?}`, src/ws/protocol.ts); this turns them into Socket.IO emits and acks,
 * and client events (with their ack callbacks) into frames, so both kinds of socket share
 * one hub: rooms, `emitToUser`, revocation, the session pool and the caps.
 */
export class SocketIoTransport implements WsTransport {
  readonly kind = "socketio";
  #acks: Map<number, Ack> | null = null;
  #nextId = 1;

  constructor(
    private readonly socket: Socket,
    private readonly backpressureLimitBytes: number,
  ) {}

  /** The `/ws` frame for a client event; remembers its ack callback, if any. */
  frameOf(event: string, args: unknown[]): string {
    const last = args[args.length - 1];
    if (typeof last !== "function") return JSON.stringify({ event, data: args[0] });
    const id = this.#nextId++;
    const acks = (this.#acks ??= new Map());
    // Frames refused before dispatch (oversize) are answered without an id: bound what waits.
    if (acks.size >= MAX_PENDING_ACKS) {
      const [oldest, ack] = acks.entries().next().value!;
      acks.delete(oldest);
      ack();
    }
    acks.set(id, last as Ack);
    return JSON.stringify({ event, data: args.length > 1 ? args[0] : null, id });
  }

  send(text: string): "sent" | "dropped" | "closed" {
    if (!this.socket.connected) return "closed";
    if (this.#buffered() > this.backpressureLimitBytes) return "dropped";
    const f = decode(text);
    if (f.id === undefined) {
      // Encoded once per frame, as socket.io's own broadcasts do (adapters write pre-encoded packets this way).
      f.encoded ??= this.socket.nsp.server.encoder.encode({ type: EVENT, data: [f.event, f.data], nsp: this.socket.nsp.name });
      this.socket.client._packet(f.encoded as never, { preEncoded: true });
      return "sent";
    }
    const ack = this.#acks?.get(f.id);
    if (!ack) return "sent";
    this.#acks!.delete(f.id);
    if (f.event === "ack") ack(f.data);
    else {
      // A failed request: the ack carries nothing (as Open WebUI's does), the `error` event says why.
      ack();
      this.socket.emit("error", f.data);
    }
    return "sent";
  }

  /**
   * Ends the socket. Revocation, refusals and policy closes send `error {code, message}` and a
   * server-side `disconnect` (the client sees `io server disconnect` and does not reconnect);
   * shutdown and overload drop only the connection, so the client reconnects elsewhere.
   */
  close(code: number, reason: string): void {
    if (code === CLOSE.GOING_AWAY || code === CLOSE.TRY_LATER) {
      this.socket.conn.close();
      return;
    }
    if (this.socket.connected) {
      // Requests still waiting (a refused user-join) get Open WebUI's empty ack before the disconnect.
      for (const ack of this.#acks?.values() ?? []) ack();
      this.#acks = null;
      this.socket.emit("error", { code, message: reason });
    }
    this.socket.disconnect(true);
  }

  /** Bytes Bun still holds for this client (websocket transport); 0 for polling. */
  #buffered(): number {
    const ws = (this.socket.conn.transport as unknown as { socket?: { getBufferedAmount?: () => number } }).socket;
    return ws?.getBufferedAmount?.() ?? 0;
  }
}

// One broadcast pushes the same string to every socket: decode it once.
let lastText = "";
let lastFrame: DecodedFrame = { event: "", data: null };

function decode(text: string): DecodedFrame {
  if (text !== lastText) {
    lastFrame = JSON.parse(text) as DecodedFrame;
    lastText = text;
  }
  return lastFrame;
}
