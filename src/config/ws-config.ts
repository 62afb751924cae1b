/**
 * Socket settings: the `/ws` hub's limits and session-pool timing (`GATEHOUSE_WS_*`) and Socket.IO
 * at `/ws/socket.io` (Open WebUI's names and defaults).
 */
import { bool, int, list, num, type Env } from "./readers.ts";

/** WebSocket limits and session-pool timing (`GATEHOUSE_WS_*`). */
export interface WsConfig {
  /** How long a socket may stay open without authenticating. */
  readonly authTimeoutMs: number;
  /** Largest frame accepted, and largest payload an emit may carry, in bytes. */
  readonly maxPayloadBytes: number;
  /** Seconds without any traffic (pongs included) before the runtime drops a connection; 0 = never. */
  readonly idleTimeoutSeconds: number;
  /** Bytes queued for one slow client before it is closed (1013). */
  readonly backpressureLimitBytes: number;
  /** Authenticated sockets one user may hold on one instance. */
  readonly maxSocketsPerUser: number;
  /** Bad frames (non-JSON, oversize, malformed) tolerated before the socket is closed. */
  readonly maxBadFrames: number;
  /** `session_pool` entries not seen for this long are reaped (Open WebUI: 120). */
  readonly sessionPoolTimeoutSeconds: number;
  /** How often the reaper (and local socket upkeep) runs. */
  readonly reaperIntervalMs: number;
  /** Sockets still waiting to authenticate (no token at upgrade) allowed per client address. */
  readonly anonPerClient: number;
  /** Sockets still waiting to authenticate allowed on this instance in all. */
  readonly anonMax: number;
}

/** Socket.IO at `/ws/socket.io`, on the same hub as `/ws` (Open WebUI's names and defaults). */
export interface SocketIoConfig {
  /** `GATEHOUSE_SOCKETIO`: serve `/ws/socket.io` at all. */
  readonly enabled: boolean;
  /** `ENABLE_WEBSOCKET_SUPPORT` (Open WebUI's): true → websocket only, false → HTTP long-polling only. */
  readonly transports: readonly ("websocket" | "polling")[];
  /** `WEBSOCKET_SERVER_PING_INTERVAL` (seconds in the variable). */
  readonly pingIntervalMs: number;
  /** `WEBSOCKET_SERVER_PING_TIMEOUT` (seconds in the variable). */
  readonly pingTimeoutMs: number;
  /** `CORS_ALLOW_ORIGIN` (Open WebUI's, `;`-separated): origins allowed to connect; `*` = any. */
  readonly corsOrigins: readonly string[];
}

/** Reads `GATEHOUSE_WS_*`. */
export function readWsConfig(env: Env): WsConfig {
  return {
    authTimeoutMs: int(env, "GATEHOUSE_WS_AUTH_TIMEOUT_MS", 10_000, 100, 600_000),
    maxPayloadBytes: int(env, "GATEHOUSE_WS_MAX_PAYLOAD", 1_048_576, 1024, 67_108_864),
    idleTimeoutSeconds: int(env, "GATEHOUSE_WS_IDLE_TIMEOUT_SECONDS", 120, 0, 960),
    backpressureLimitBytes: int(env, "GATEHOUSE_WS_BACKPRESSURE_LIMIT", 4_194_304, 65_536, 1_073_741_824),
    maxSocketsPerUser: int(env, "GATEHOUSE_WS_MAX_SOCKETS_PER_USER", 32, 1, 1_000_000),
    maxBadFrames: int(env, "GATEHOUSE_WS_MAX_BAD_FRAMES", 5, 1, 1000),
    sessionPoolTimeoutSeconds: int(env, "GATEHOUSE_WS_SESSION_POOL_TIMEOUT_SECONDS", 120, 1, 86_400),
    reaperIntervalMs: int(env, "GATEHOUSE_WS_REAPER_INTERVAL_MS", 30_000, 100, 3_600_000),
    anonPerClient: int(env, "GATEHOUSE_WS_ANON_PER_CLIENT", 64, 1, 1_000_000),
    anonMax: int(env, "GATEHOUSE_WS_ANON_MAX", 1024, 1, 10_000_000),
  };
}

/** Reads `GATEHOUSE_SOCKETIO`, `ENABLE_WEBSOCKET_SUPPORT`, `WEBSOCKET_SERVER_PING_*` and `CORS_ALLOW_ORIGIN`. */
export function readSocketIoConfig(env: Env): SocketIoConfig {
  return {
    enabled: bool(env, "GATEHOUSE_SOCKETIO", true),
    transports: bool(env, "ENABLE_WEBSOCKET_SUPPORT", true) ? ["websocket"] : ["polling"],
    // At most 200 s: a long-poll waits up to one ping interval, and Bun ends idle HTTP requests at 255 s.
    pingIntervalMs: num(env, "WEBSOCKET_SERVER_PING_INTERVAL", 25, 1, 200) * 1000,
    pingTimeoutMs: num(env, "WEBSOCKET_SERVER_PING_TIMEOUT", 20, 1, 200) * 1000,
    corsOrigins: list(env, "CORS_ALLOW_ORIGIN", ";").length > 0 ? list(env, "CORS_ALLOW_ORIGIN", ";") : ["*"],
  };
}
