import type { FetchHandler } from "../http/request-accounting.ts";
import type { RunningServer, ServeOptions } from "./serve.ts";
import { recordPeerAddress } from "../net/client-address.ts";
import type { WsConnection } from "../ws/connection.ts";
import type { WsTransport } from "../ws/transport.ts";
import { acceptUpgrade, isWsUpgrade, type WsEndpoint } from "../ws/upgrade.ts";

declare const Deno: {
  serve(
    options: { hostname: string; port: number; reusePort?: boolean; onListen?: (addr: { port: number }) => void; onError?: (error: unknown) => Response },
    handler: (req: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> };
  upgradeWebSocket(request: Request, options?: { idleTimeout?: number }): { socket: WebSocket; response: Response };
};

/** Deno's answer to a handler that threw, the same JSON as Bun's `error` hook (src/runtime/bun.ts). */
const internalError = () => new Response(JSON.stringify({ detail: "Internal Server Error" }), { status: 500, headers: { "content-type": "application/json" } });

/**
 * Serves `fetch` with Deno.serve, and the socket hub at its path when `ws` is given: the only part
 * of serving that differs on Deno. Deno has no request-body limit of its own, so `maxBodyBytes` is
 * left to the app (request-limits.ts), and no forced stop (shutdown lets in-flight responses finish).
 */
export function serveDeno(fetch: FetchHandler, opts: ServeOptions, ws?: WsEndpoint): RunningServer {
  const server = Deno.serve({ hostname: opts.host, port: opts.port, reusePort: opts.reusePort === true, onListen: () => {}, onError: internalError }, (req, info) => {
    recordPeerAddress(req, info.remoteAddr.hostname);
    if (ws && isWsUpgrade(ws, req)) return upgradeDeno(ws, req);
    return fetch(req);
  });
  return {
    port: server.addr.port,
    stop: async () => {
      await server.shutdown();
    },
  };
}

/** The hub's transport over a Deno WebSocket; Deno has no send-side limit, so the buffer is checked here. */
class DenoTransport implements WsTransport {
  constructor(
    private readonly socket: WebSocket,
    private readonly backpressureLimit: number,
  ) {}
  send(text: string): "sent" | "dropped" | "closed" {
    if (this.socket.readyState !== WebSocket.OPEN) return "closed";
    if (this.socket.bufferedAmount > this.backpressureLimit) return "dropped";
    this.socket.send(text);
    return "sent";
  }
  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}

/** `Deno.upgradeWebSocket`, feeding the runtime-neutral hub (src/ws). */
function upgradeDeno(ws: WsEndpoint, req: Request): Response {
  const seed = acceptUpgrade(ws, req);
  if (seed instanceof Response) return seed;
  const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: ws.limits.idleTimeoutSeconds });
  socket.binaryType = "arraybuffer";
  let conn: WsConnection | null = null;
  socket.onopen = () => {
    conn = ws.open(new DenoTransport(socket, ws.limits.backpressureLimitBytes), seed);
  };
  socket.onmessage = (e: MessageEvent) => {
    if (conn) ws.message(conn, e.data as string | ArrayBuffer);
  };
  socket.onclose = (e: CloseEvent) => {
    if (conn) ws.closed(conn, e.code);
  };
  // Errors are followed by a close event; the hub learns of the end there.
  socket.onerror = () => {};
  return response;
}
