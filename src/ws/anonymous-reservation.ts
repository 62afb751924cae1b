import type { Logger } from "../observability/logger.ts";
import type { WsMetrics, WsTransportKind } from "../observability/ws-metrics.ts";
import { AnonymousSocketCap } from "./anonymous-cap.ts";
import type { WsConnection } from "./connection.ts";

/**
 * The hub's reservations for sockets waiting to authenticate: the {@link AnonymousSocketCap}
 * plus the refusal metric and a rate-limited warning, shared by `/ws` and Socket.IO.
 */
export class AnonymousReservations {
  readonly #cap: AnonymousSocketCap;
  #lastWarning = 0;

  constructor(perClient: number, max: number, private readonly metrics: WsMetrics, private readonly log: Logger) {
    this.#cap = new AnonymousSocketCap(perClient, max);
  }

  /** Counts one socket for `client`; false (counted and, at most every 10 s, logged) when a cap is reached. */
  reserve(client: string, transport: WsTransportKind): boolean {
    if (this.#cap.admit(client)) return true;
    this.metrics.authFailures.inc({ reason: "too_many_anonymous", transport });
    // One line per 10 s at most: a flood of refused sockets must not become a flood of log lines.
    const now = Date.now();
    if (now - this.#lastWarning >= 10_000) {
      this.#lastWarning = now;
      this.log.warn({ client, transport }, "WebSocket refused: too many unauthenticated sockets (gatehouse_ws_auth_failures_total{reason=\"too_many_anonymous\"} counts them)");
    }
    return false;
  }

  /** Gives back one reservation of `client`. */
  release(client: string): void {
    this.#cap.release(client);
  }

  /** Gives back the reservation a connection holds, if any (it authenticated or closed). */
  releaseOf(conn: WsConnection): void {
    if (conn.anonymousClient === null) return;
    this.#cap.release(conn.anonymousClient);
    conn.anonymousClient = null;
  }
}
