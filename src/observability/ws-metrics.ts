import { Counter, Gauge, type Registry } from "prom-client";

/** What the connection gauge reads at scrape time. */
export interface WsConnectionProbe {
  counts(): { authenticated: number; anonymous: number };
}

/** Why an authentication attempt on a socket failed: a fixed set, never a user id or token. */
export type WsAuthFailureReason =
  | "missing" | "invalid" | "expired" | "revoked" | "user_gone" | "pending" | "api_key"
  | "user_mismatch" | "timeout" | "unavailable" | "error" | "too_many_anonymous";

/** The WebSocket hub's metric set. Labels are bounded (fixed words and known close codes). */
export interface WsMetrics {
  connections: Gauge<"state">;
  /** Pre-bound children: one `inc(n)` per broadcast, not per socket. */
  messagesIn: { inc(n?: number): void };
  messagesOut: { inc(n?: number): void };
  authFailures: Counter<"reason">;
  closes: Counter<"code">;
  reaped: Counter;
  deliveryErrors: Counter;
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
    help: "WebSocket frames received (in) and sent (out, one per socket reached)",
    labelNames: ["direction"], registers,
  });
  return {
    connections: new Gauge({
      name: "gatehouse_ws_connections",
      help: "Open WebSocket connections on this instance, by state",
      labelNames: ["state"], registers,
      collect() {
        const c = probe.counts();
        this.set({ state: "authenticated" }, c.authenticated);
        this.set({ state: "anonymous" }, c.anonymous);
      },
    }),
    messagesIn: messages.labels("in"),
    messagesOut: messages.labels("out"),
    authFailures: new Counter({
      name: "gatehouse_ws_auth_failures_total",
      help: "WebSocket authentication attempts refused, by reason",
      labelNames: ["reason"], registers,
    }),
    closes: new Counter({
      name: "gatehouse_ws_closes_total",
      help: "WebSocket connections closed, by close code (other = a code not listed)",
      labelNames: ["code"], registers,
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
  };
}
