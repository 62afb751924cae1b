import type { FetchHandler } from "../http/request-accounting.ts";
import { peerAddress, recordPeerSource } from "../net/client-address.ts";
import type { ServerWebSocket, WebSocketHandler } from "bun";
import type { WsConnection } from "../ws/connection.ts";
import type { SocketSeed, WsTransport } from "../ws/transport.ts";
import { acceptUpgrade, isWsUpgrade, type WsEndpoint } from "../ws/upgrade.ts";
import type { RunningServer, ServeOptions } from "./serve.ts";

export type { RunningServer } from "./serve.ts";

/** Serves `fetch` with Bun.serve, and the socket hub at its path when `ws` is given. */
export function serveBun(fetch: FetchHandler, opts: ServeOptions, ws?: WsEndpoint): RunningServer {
  const server = Bun.serve<SocketData>({
    hostname: opts.host,
    port: opts.port,
    // GATEHOUSE_PROCESSES > 1: the processes share the port, the kernel spreads connections.
    reusePort: opts.reusePort === true,
    // Headroom above our own limit, so oversize bodies get the app's JSON 413 (request-limits.ts).
    maxRequestBodySize: opts.maxBodyBytes * 2 + 65_536,
    // LLM streams are long; the gateway keeps them alive itself.
    idleTimeout: 255,
    fetch(request, server) {
      recordPeerSource(request, server);
      if (ws?.socketio?.matches(request.url)) {
        // Socket.IO reads the peer after this handler has returned (at the engine's connection
        // event), when Bun can no longer tell it: look it up now.
        peerAddress(request);
        return ws.socketio.handle(request, server);
      }
      if (ws && isWsUpgrade(ws, request)) {
        const seed = acceptUpgrade(ws, request);
        if (seed instanceof Response) return seed;
        if (server.upgrade(request, { data: { seed, conn: null } })) return undefined;
        return new Response(JSON.stringify({ detail: "WebSocket upgrade failed" }), { status: 400, headers: { "content-type": "application/json" } });
      }
      return fetch(request);
    },
    // Always present (Bun's types want it); without a hub nothing is ever upgraded.
    websocket: bunWebSocket(ws),
    error: () => new Response(JSON.stringify({ detail: "Internal Server Error" }), { status: 500, headers: { "content-type": "application/json" } }),
  });
  return {
    port: server.port ?? opts.port,
    stop: (force = false) => server.stop(force),
  };
}

/** Per-socket data: the upgrade's seed until `open`, then the hub's connection. */
interface SocketData {
  seed: SocketSeed | null;
  conn: WsConnection | null;
  /** Set instead (by @socket.io/bun-engine) on Socket.IO's WebSockets. */
  transport?: unknown;
}

/** The hub's transport over a Bun socket: one small object per socket. */
class BunTransport implements WsTransport {
  constructor(private readonly socket: ServerWebSocket<SocketData>) {}
  send(text: string): "sent" | "dropped" | "closed" {
    if (this.socket.readyState !== 1) return "closed";
    // 0: over backpressureLimit and dropped; -1: queued under backpressure; n: bytes sent.
    return this.socket.send(text) === 0 ? "dropped" : "sent";
  }
  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}

/** Bun's native WebSocket handlers, feeding the runtime-neutral hub (src/ws). */
function bunWebSocket(ws: WsEndpoint | undefined): WebSocketHandler<SocketData> {
  if (!ws) return { message() {} };
  return {
    maxPayloadLength: ws.limits.hardMaxPayloadBytes,
    backpressureLimit: ws.limits.backpressureLimitBytes,
    closeOnBackpressureLimit: false,
    idleTimeout: ws.limits.idleTimeoutSeconds,
    sendPings: true,
    open(socket) {
      if (socket.data.transport) return ws.socketio?.websocket.open(socket);
      const seed = socket.data.seed!;
      // The token is used once by the hub and not kept on the socket.
      socket.data.seed = null;
      socket.data.conn = ws.open(new BunTransport(socket), seed);
    },
    message(socket, message) {
      if (socket.data.transport) return ws.socketio?.websocket.message(socket, message);
      if (socket.data.conn) ws.message(socket.data.conn, message);
    },
    close(socket, code, reason) {
      if (socket.data.transport) return ws.socketio?.websocket.close(socket, code, reason);
      if (socket.data.conn) ws.closed(socket.data.conn, code);
    },
  };
}
