import { Server as Engine } from "@socket.io/bun-engine";
import { Server, type Socket } from "socket.io";
import type { SocketIoConfig } from "../config/config.ts";
import type { Logger } from "../observability/logger.ts";
import type { EngineRequestKind } from "../observability/ws-metrics.ts";
import type { VerifiedToken, WsHub } from "./hub.ts";
import { admitSocket, handshakeFacts, SocketIoRefusal, type HandshakeFacts } from "./socketio-admission.ts";
import type { SocketSeed } from "./transport.ts";
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
 * auth timeout passes. Admission follows raw `/ws`'s rules (src/ws/socketio-admission.ts):
 * anonymous caps shared with `/ws` (`connect_error` 1013 beyond them), the trusted header
 * only from a trusted proxy, no cross-site handshake riding the `token` cookie (1008).
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
  // The handshake request (with its peer) is only at hand here: keep what admission needs, per Engine.IO session.
  const facts = new WeakMap<object, HandshakeFacts>();
  engine.on("connection", (session: object, request: Request) => facts.set(session, handshakeFacts(hub, config, request)));
  const io = new Server({ serveClient: false, connectTimeout: 10_000 });
  io.bind(engine as unknown as Parameters<Server["bind"]>[0]);

  io.use((socket, next) => {
    const token = tokenOf(socket.handshake.auth);
    forgetCredentials(socket);
    const known = facts.get(socket.conn);
    // Gone already (or never seen at the handshake): nothing to admit, and no slot that could leak.
    if (!known || socket.conn.readyState !== "open") return next(new SocketIoRefusal("Connection closed", CLOSE.GOING_AWAY));
    let seed: SocketSeed;
    try {
      seed = admitSocket(hub, known, token);
    } catch (e) {
      return next(e as SocketIoRefusal);
    }
    if (token === null) {
      socket.data.seed = seed;
      // Given back if the client leaves before the socket reaches the hub (which then owns the slot).
      socket.conn.once("close", () => {
        if (socket.data.seed === seed) hub.releaseAnonymous(seed.client!);
        socket.data.seed = undefined;
      });
      return next();
    }
    hub.verify(token, seed.trustedEmail).then(
      (verified) => {
        if (verified.result.ok) {
          socket.data.seed = seed;
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
    const verified = socket.data.verified as VerifiedToken | undefined;
    const seed = socket.data.seed as SocketSeed;
    // The claims and the anonymous slot are the hub's from here on; the socket keeps nothing of the token (see forgetCredentials).
    socket.data.verified = undefined;
    socket.data.seed = undefined;
    const transport = new SocketIoTransport(socket, hub.limits.backpressureLimitBytes);
    const conn = hub.open(transport, seed, verified);
    socket.onAny((event: string, ...args: unknown[]) => hub.message(conn, transport.frameOf(event, args)));
    socket.on("disconnect", (reason) => hub.closed(conn, reason === "client namespace disconnect" ? 1000 : 1006));
  });

  const paths = new Set([SOCKETIO_PATH, `${SOCKETIO_PATH}/`]);
  type BunWs = Parameters<Engine["onWebSocketOpen"]>[0];
  return {
    path: SOCKETIO_PATH,
    // Every HTTP request passes here: a substring test first, a URL parse only for likely hits.
    matches: (url) => url.includes(SOCKETIO_PATH) && paths.has(new URL(url).pathname),
    handle: async (request, server) => {
      const response = await engine.handleRequest(request, server as Parameters<Engine["handleRequest"]>[1]);
      hub.metrics.engineRequests.inc({ transport: "socketio", kind: engineRequestKind(request), outcome: response.status < 400 ? "accepted" : "refused" });
      return response;
    },
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

/** Which Engine.IO request this is, for the metrics. */
function engineRequestKind(request: Request): EngineRequestKind {
  if (!new URL(request.url).searchParams.has("sid")) return "handshake";
  return request.headers.get("upgrade")?.toLowerCase() === "websocket" ? "upgrade" : "polling";
}

/** `auth.token` when it is a non-empty string. */
function tokenOf(auth: unknown): string | null {
  const token = (auth as { token?: unknown } | null | undefined)?.token;
  return typeof token === "string" && token.length > 0 ? token : null;
}
