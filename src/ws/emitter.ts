import type { KeyValueStore } from "../kv/store.ts";
import type { WsMetrics } from "../observability/ws-metrics.ts";
import type { WsConnection } from "./connection.ts";
import type { SocketRegistry } from "./socket-registry.ts";
import { DeliveryBus, type DeliveryTarget } from "./delivery.ts";
import { encodeFrame, exceedsBytes, utf8Length } from "./protocol.ts";
import { WsPayloadTooLargeError } from "./ws-errors.ts";

/** How far an emit went: sockets reached here, and whether the other instances were told. */
export interface EmitResult {
  local: number;
  published: boolean;
}

/** What the emitter is built on. */
export interface EmitterDeps {
  sockets: SocketRegistry;
  store: KeyValueStore;
  instanceId: string;
  maxPayloadBytes: number;
  metrics: Pick<WsMetrics, "messagesOut" | "deliveryErrors">;
  /** Sends one frame to one socket; false when the socket was closed for backpressure. */
  push(conn: WsConnection, frame: string): boolean;
  onPublishError(e: unknown): void;
}

/**
 * Emits to a target on every instance: the frame is serialised once, sent to the sockets
 * here, then published for the others (which deliver it the same way). Oversize payloads
 * are refused synchronously with {@link WsPayloadTooLargeError}; the returned promise never
 * rejects — a store outage still delivers here and is counted — so callers may fire and forget.
 */
export class Emitter {
  readonly #bus: DeliveryBus;

  constructor(private readonly d: EmitterDeps) {
    this.#bus = new DeliveryBus(d.store, d.instanceId, (target, frame) => this.deliver(target, frame));
  }

  start(): Promise<void> {
    return this.#bus.start();
  }

  stop(): Promise<void> {
    return this.#bus.stop();
  }

  emit(target: DeliveryTarget, event: string, data: unknown): Promise<EmitResult> {
    const frame = encodeFrame(event, data);
    if (exceedsBytes(frame, this.d.maxPayloadBytes)) throw new WsPayloadTooLargeError(utf8Length(frame), this.d.maxPayloadBytes);
    const local = this.deliver(target, frame);
    return this.#bus.publish(target, frame).then(
      () => ({ local, published: true }),
      (e: unknown) => {
        this.d.metrics.deliveryErrors.inc();
        this.d.onPublishError(e);
        return { local, published: false };
      },
    );
  }

  /** Sends an already serialised frame to the authenticated sockets of `target` here. */
  deliver(target: DeliveryTarget, frame: string): number {
    let ws = 0;
    let socketio = 0;
    for (const conn of this.d.sockets.members(target)) {
      if (conn.state !== "authenticated" || !this.d.push(conn, frame)) continue;
      if (conn.transport.kind === "socketio") socketio++;
      else ws++;
    }
    this.d.metrics.messagesOut.ws.inc(ws);
    this.d.metrics.messagesOut.socketio.inc(socketio);
    return ws + socketio;
  }
}
