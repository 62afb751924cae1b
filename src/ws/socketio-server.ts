import { Server as Engine } from "@socket.io/bun-engine";
import { Server, type Socket } from "socket.io";
import type { SocketIoConfig } from "../config/config.ts";
import type { Logger } from "../observability/logger.ts";
import type { WsHub } from "./hub.ts";
import { CLOSE } from "./protocol.ts";
import type { SocketIoEndpoint } from "./socketio-endpoint.ts";
import { SocketIoTransport } from "./socketio-transport.ts";

/** Open WebUI's path. */
export const SOCKETIO_PATH = "/ws/socket.io";

/**
 * Socket.IO (Engine.IO v4, protocol 5) at `/ws/socket.io` on Bun, with the official
 * `socket.io` server over `@socket.io/bun-engine`. Every Socket.IO socket becomes a socket
 * of the `/ws` hub (src/ws/socketio-transport.ts), so authentication, rooms, cross-instance
 * delivery, revocation, the session pool and the caps are the hub's, shared with `/ws`.
 *
 * A handshake `auth: {token}` is verified before the socket connects: a refused token gets
 * `connect_error` (message `Unauthorized`, `data.code` 4001). No token: the socket connects
 * anonymously (Open WebUI's `always_connect`), may `user-join`, and is closed when the hub's
 * auth timeout passes.
 */
export function createSocketIoEndpoint(hub: WsHub, config: SocketIoConfig, log: Logger): SocketIoEndpoint {
  const engine = new Engine({
    path: `${SOCKETIO_PATH}/`,
    pingInterval: config.pingIntervalMs,
    pingTimeout: config.pingTimeoutMs,
    maxHttpBufferSize: hub.limits.hardMaxPayloadBytes,
    cors: { origin: config.corsOrigins.includes("*") ? "*" : [...config.corsOrigins], credentials: !config.corsOrigins.includes("*") },
    allowRequest: (request) => admit(request, hub, config),
  });
  const io = new Server({ serveClient: false, connectTimeout: 10_000 });
  io.bind(engine as unknown as Parameters<Server["bind"]>[0]);

  io.use((socket, next) => {
    const token = tokenOf(socket.handshake.auth);
    forgetCredentials(socket);
    if (token === null) return next();
    hub.verify(token, trustedEmailOf(hub, socket)).then(
      (verified) => {
        if (verified.result.ok) {
          socket.data.verified = verified;
          return next();
        }
        const unauthorized = verified.result.closeCode === CLOSE.UNAUTHORIZED;
        next(Object.assign(new Error(unauthorized ? "Unauthorized" : "Try again later"), { data: { code: verified.result.closeCode } }));
      },
      (e: unknown) => {
        log.error({ err: (e as Error).message }, "Socket.IO authentication failed unexpectedly");
        next(Object.assign(new Error("Try again later"), { data: { code: CLOSE.TRY_LATER } }));
      },
    );
  });

  io.on("connection", (socket) => {
    const verified = socket.data.verified;
    // The claims are the hub's from here on; the socket keeps nothing of the token (see forgetCredentials).
    socket.data.verified = undefined;
    const transport = new SocketIoTransport(socket, hub.limits.backpressureLimitBytes);
    const conn = hub.open(transport, { token: null, trustedEmail: trustedEmailOf(hub, socket) }, verified);
    socket.onAny((event: string, ...args: unknown[]) => hub.message(conn, transport.frameOf(event, args)));
    socket.on("disconnect", (reason) => hub.closed(conn, reason === "client namespace disconnect" ? 1000 : 1006));
  });

  const paths = new Set([SOCKETIO_PATH, `${SOCKETIO_PATH}/`]);
  type BunWs = Parameters<Engine["onWebSocketOpen"]>[0];
  return {
    path: SOCKETIO_PATH,
    // Every HTTP request passes here: a substring test first, a URL parse only for likely hits.
    matches: (url) => url.includes(SOCKETIO_PATH) && paths.has(new URL(url).pathname),
    handle: (request, server) => engine.handleRequest(request, server as Parameters<Engine["handleRequest"]>[1]),
    websocket: {
      open: (ws) => engine.onWebSocketOpen(ws as BunWs),
      message: (ws, message) => engine.onWebSocketMessage(ws as BunWs, message as Parameters<Engine["onWebSocketMessage"]>[1]),
      close: (ws, code, reason) => engine.onWebSocketClose(ws as BunWs, code, reason),
    },
    close: () => engine.close(),
  };
}

/**
 * Refuses (403) what the hub would refuse before a socket exists: a draining instance, a
 * transport that is switched off (`ENABLE_WEBSOCKET_SUPPORT`), and an Origin outside
 * `CORS_ALLOW_ORIGIN` (browsers do not apply CORS to WebSockets, so it is checked here).
 */
async function admit(request: Request, hub: WsHub, config: SocketIoConfig): Promise<void> {
  if (!hub.accepting) throw "Server is shutting down";
  const transport = new URL(request.url).searchParams.get("transport");
  if (!(config.transports as readonly string[]).includes(transport ?? "")) throw "Transport not enabled";
  const origin = request.headers.get("origin");
  if (origin !== null && !config.corsOrigins.includes("*") && !config.corsOrigins.includes(origin)) throw "Origin not allowed";
}

/**
 * Drops the credentials socket.io would keep for the socket's lifetime (`handshake.auth`, and
 * the `token` cookie and `Authorization` header of the handshake request): the hub keeps only
 * the token's `jti`, `iat` and `exp`, as on `/ws`.
 */
function forgetCredentials(socket: Socket): void {
  socket.handshake.auth = {};
  delete socket.handshake.headers.cookie;
  delete socket.handshake.headers.authorization;
}

/** The trusted-proxy email header of the handshake, when that header is configured. */
function trustedEmailOf(hub: WsHub, socket: Socket): string | null {
  if (!hub.trustedEmailHeader) return null;
  const v = socket.handshake.headers[hub.trustedEmailHeader];
  return typeof v === "string" ? v : null;
}

/** `auth.token` when it is a non-empty string. */
function tokenOf(auth: unknown): string | null {
  const token = (auth as { token?: unknown } | null | undefined)?.token;
  return typeof token === "string" && token.length > 0 ? token : null;
}
