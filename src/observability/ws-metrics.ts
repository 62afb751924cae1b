import { Counter, Gauge, type Registry } from "prom-client";

/** How a socket reached the hub: raw `/ws` or Socket.IO at `/ws/socket.io`. */
export type WsTransportKind = "ws" | "socketio";

/** The `transport` label values, in a fixed order. */
export const WS_TRANSPORT_KINDS: readonly WsTransportKind[] = ["ws", "socketio"];

/** What the connection gauge reads at scrape time. */
export interface WsConnectionProbe {
  counts(transport: WsTransportKind): { authenticated: number; anonymous: number };
}

/** A counter pre-bound per transport: one `inc(n)` per broadcast and transport, not per socket. */
export type PerTransport = Record<WsTransportKind, { inc(n?: number): void }>;

/** Why an authentication attempt on a socket failed: a fixed set, never a user id or token. */
export type WsAuthFailureReason =
  | "missing" | "invalid" | "expired" | "revoked" | "user_gone" | "pending" | "api_key"
  | "user_mismatch" | "timeout" | "unavailable" | "error" | "too_many_anonymous" | "cross_site_cookie";

/** What an Engine.IO HTTP request to `/ws/socket.io` was: a new session, a long-poll, or a switch to WebSocket. */
export type EngineRequestKind = "handshake" | "polling" | "upgrade";

/** The WebSocket hub's metric set. Labels are bounded (fixed words and known close codes). */
export interface WsMetrics {
  connections: Gauge<"state" | "transport">;
  messagesIn: PerTransport;
  messagesOut: PerTransport;
  authFailures: Counter<"reason" | "transport">;
  closes: Counter<"code" | "transport">;
  reaped: Counter;
  deliveryErrors: Counter;
  /**
   * Socket.IO's HTTP requests (handshakes, long-polls, upgrades), which bypass the app and
   * so its request metrics and access log; refused = answered with a 4xx/5xx.
   */
  engineRequests: Counter<"transport" | "kind" | "outcome">;
}

/** Close codes reported as themselves; anything else is counted as `other`. */
const KNOWN_CODES = new Set([1000, 1001, 1005, 1006, 1008, 1009, 1011, 1013, 4001]);

/** The `code` label for a close code. */
export function closeCodeLabel(code: number): string {
  return KNOWN_CODES.has(code) ? String(code) : "other";
}

/** Registers the WebSocket metrics on `registry`; the connection gauge reads `probe` when scraped. */
export function createWsMetrics(registry: Registry, probe: WsConnectionProbe): WsMetrics {
  const registers = [registry];
  const messages = new Counter({
    name: "gatehouse_ws_messages_total",
    help: "WebSocket frames received (in) and sent (out, one per socket reached), by transport",
    labelNames: ["direction", "transport"], registers,
  });
  const perTransport = (direction: string) =>
    Object.fromEntries(WS_TRANSPORT_KINDS.map((t) => [t, messages.labels(direction, t)])) as PerTransport;
  return {
    connections: new Gauge({
      name: "gatehouse_ws_connections",
      help: "Open WebSocket connections on this instance, by state and transport (ws = /ws, socketio = /ws/socket.io)",
      labelNames: ["state", "transport"], registers,
      collect() {
        for (const transport of WS_TRANSPORT_KINDS) {
          const c = probe.counts(transport);
          this.set({ state: "authenticated", transport }, c.authenticated);
          this.set({ state: "anonymous", transport }, c.anonymous);
        }
      },
    }),
    messagesIn: perTransport("in"),
    messagesOut: perTransport("out"),
    authFailures: new Counter({
      name: "gatehouse_ws_auth_failures_total",
      help: "WebSocket authentication attempts refused, by reason and transport",
      labelNames: ["reason", "transport"], registers,
    }),
    closes: new Counter({
      name: "gatehouse_ws_closes_total",
      help: "WebSocket connections closed, by close code (other = a code not listed) and transport",
      labelNames: ["code", "transport"], registers,
    }),
    reaped: new Counter({
      name: "gatehouse_ws_session_pool_reaped_total",
      help: "session_pool entries removed by the reaper because no instance refreshed them (crashed instances)",
      registers,
    }),
    deliveryErrors: new Counter({
      name: "gatehouse_ws_delivery_errors_total",
      help: "Emits that could not be published to other instances (the store was unreachable)",
      registers,
    }),
    engineRequests: new Counter({
      name: "gatehouse_ws_http_requests_total",
      help: "HTTP requests of Socket.IO (kind: handshake, polling, upgrade; outcome: accepted, refused), which the HTTP request metrics do not see",
      labelNames: ["transport", "kind", "outcome"], registers,
    }),
  };
}
