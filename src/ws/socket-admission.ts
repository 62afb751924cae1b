import type { WsConfig } from "../config/config.ts";
import type { Logger } from "../observability/logger.ts";
import type { TokenClaims } from "../auth/session-tokens.ts";
import type { UserRecord } from "../db/repos/users.ts";
import type { WsMetrics } from "../observability/ws-metrics.ts";
import type { WsConnection } from "./connection.ts";
import type { SessionWatch } from "./session-watch.ts";
import type { SocketRegistry } from "./socket-registry.ts";
import type { SocketAuthenticator, SocketAuthResult } from "./socket-auth.ts";
import type { FrameDispatcher } from "./frame-dispatch.ts";
import type { AnonymousReservations } from "./anonymous-reservation.ts";
import type { SocketSeed } from "./transport.ts";
import { poolUser } from "./session-pool.ts";
import { CLOSE, errorFrame } from "./protocol.ts";

/** A token checked by {@link WsHub.verify}, with the revocation epoch it was checked at. */
export interface VerifiedToken {
  result: SocketAuthResult;
  epoch: number;
}

/** What {@link SocketAdmission} needs from the hub. */
export interface SocketAdmissionDeps {
  sockets: SocketRegistry;
  watch: SessionWatch;
  metrics: WsMetrics;
  log: Logger;
  config: Pick<WsConfig, "maxSocketsPerUser" | "authTimeoutMs">;
  authenticator: SocketAuthenticator;
  dispatch: Pick<FrameDispatcher, "hold" | "release">;
  anonymous: AnonymousReservations;
  send: (conn: WsConnection, frame: string) => boolean;
  end: (conn: WsConnection, code: number, reason: string) => void;
  releaseAnonymous: (conn: WsConnection) => void;
  writePool: (conn: WsConnection) => void;
}

/**
 * Takes a socket from its opening to authenticated: the anonymous cap and the auth timer for
 * sockets without a token, the token check, and the admission itself. Turns a socket's authentication result into its admission: closes it on a refusal or past
 * the per-user socket cap, otherwise marks it authenticated, indexes it under its user and
 * writes its session_pool entry, rechecking when a revocation landed during the check.
 */
export class SocketAdmission {
  constructor(private readonly d: SocketAdmissionDeps) {}

  /** A socket just opened (see {@link WsHub.open}): reserves, times or authenticates it; `draining` closes it at once. */
  begin(conn: WsConnection, seed: SocketSeed, verified: VerifiedToken | undefined, draining: boolean): void {
    // A socket without a token (nor one checked at a Socket.IO handshake) waits for user-join:
    // those are capped per client and in all.
    const anonymous = seed.token === null && !verified;
    const client = seed.client ?? "unknown";
    // A slot reserved at the handshake belongs to the connection from here on, released with it.
    if (anonymous && seed.anonymousReserved) conn.anonymousClient = client;
    if (draining) {
      this.d.end(conn, CLOSE.GOING_AWAY, "Server shutting down");
      return;
    }
    if (anonymous && !seed.anonymousReserved) {
      if (!this.d.anonymous.reserve(client, conn.kind)) {
        this.d.end(conn, CLOSE.TRY_LATER, "Too many unauthenticated sockets");
        return;
      }
      conn.anonymousClient = client;
    }
    conn.authTimer = setTimeout(() => {
      if (conn.state !== "anonymous") return;
      this.d.metrics.authFailures.inc({ reason: "timeout", transport: conn.kind });
      this.d.end(conn, CLOSE.UNAUTHORIZED, "Unauthorized");
    }, this.d.config.authTimeoutMs);
    if (verified) {
      // Checked at the Socket.IO handshake (refused ones never got here): admit without a second check.
      this.d.dispatch.hold(conn);
      this.settle(conn, verified.result, verified.epoch)
        .catch((e: unknown) => this.d.log.error({ err: (e as Error).message }, "WebSocket authentication failed unexpectedly"))
        .finally(() => this.d.dispatch.release(conn));
    } else if (seed.token !== null) {
      this.d.dispatch.hold(conn);
      this.authenticate(conn, seed.token)
        .catch((e: unknown) => this.d.log.error({ err: (e as Error).message }, "WebSocket authentication failed unexpectedly"))
        .finally(() => this.d.dispatch.release(conn));
    }
  }

  /** Verifies `token` for this socket; on success joins `user:{id}` and returns Open WebUI's ack `{id, name}`; on failure closes. */
  async authenticate(conn: WsConnection, token: string): Promise<{ id: string; name: string } | null> {
    const epoch = this.d.watch.epoch;
    const r = await this.d.authenticator.authenticate(token, conn.trustedEmail);
    return this.settle(conn, r, epoch);
  }

  /** Checks a token before any socket exists (Socket.IO's handshake); refusals are counted here. */
  async verify(token: string, trustedEmail: string | null): Promise<VerifiedToken> {
    const epoch = this.d.watch.epoch;
    const result = await this.d.authenticator.authenticate(token, trustedEmail);
    if (!result.ok) this.d.metrics.authFailures.inc({ reason: result.reason, transport: "socketio" });
    return { result, epoch };
  }

  /** Admits or closes `conn` by `r`, checked at revocation epoch `epoch`; returns Open WebUI's ack `{id, name}` or null. */
  async settle(conn: WsConnection, r: SocketAuthResult, epoch: number): Promise<{ id: string; name: string } | null> {
    if (!conn.open) return null;
    if (!r.ok) {
      this.d.metrics.authFailures.inc({ reason: r.reason, transport: conn.kind });
      this.d.end(conn, r.closeCode, r.closeCode === CLOSE.UNAUTHORIZED ? "Unauthorized" : "Try again later");
      return null;
    }
    if (!this.#admit(conn, r.user, r.claims)) return null;
    // A revocation or user change that landed while we were checking may not have seen this socket.
    if (this.d.watch.epoch !== epoch) {
      await this.d.watch.recheck([conn]);
      await this.d.watch.refreshUser(r.user.id);
      if (!conn.open) return null;
    }
    return { id: r.user.id, name: r.user.name };
  }

  #admit(conn: WsConnection, user: UserRecord, claims: TokenClaims): boolean {
    const { sockets } = this.d;
    const ofUser = sockets.socketsOfUser(user.id);
    if (!ofUser.has(conn) && ofUser.size >= this.d.config.maxSocketsPerUser) {
      this.d.send(conn, errorFrame("ERR_WS_TOO_MANY_SOCKETS", "Too many open sockets for this user"));
      this.d.end(conn, CLOSE.POLICY, "Too many sockets");
      return false;
    }
    const wasAuthenticated = conn.state === "authenticated";
    // Rooms were authorised for the previous user; a switch of user leaves them.
    if (wasAuthenticated) sockets.unindex(conn, conn.userId !== user.id);
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = null;
    this.d.releaseAnonymous(conn);
    conn.state = "authenticated";
    conn.userId = user.id;
    conn.jti = claims.jti ?? null;
    conn.iat = claims.iat;
    conn.exp = claims.exp;
    sockets.index(conn, poolUser(user), wasAuthenticated);
    this.d.writePool(conn);
    return true;
  }
}
