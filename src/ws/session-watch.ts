import type { AuthModule } from "../auth/auth-module.ts";
import type { Logger } from "../observability/logger.ts";
import type { WsConnection } from "./connection.ts";
import { poolUser, type PoolUser } from "./session-pool.ts";
import { CLOSE } from "./protocol.ts";

/** What the watch needs from the hub. */
export interface SessionWatchHost {
  socketsOfUser(userId: string): Iterable<WsConnection>;
  socketsWithJti(jti: string): Iterable<WsConnection>;
  /** Closes one socket with `code` and cleans up at once. */
  end(conn: WsConnection, code: number, reason: string): void;
  /** Replaces the pooled snapshot of a user with local sockets. */
  updateUser(user: PoolUser): void;
}

/**
 * Keeps live sockets honest about their sessions (DESIGN §4.8). Revocations (sign-out,
 * device-session revoke, per-user revoke, deletion) and user changes (role, profile,
 * deletion) reach every instance through the auth module's pub/sub listeners; this re-checks
 * the affected sockets the way a request would be checked and closes the ones that would
 * now be refused with 4001. Events never carry a verdict, only "look again".
 */
export class SessionWatch {
  #epoch = 0;
  readonly #onRevocation = (e: { userId?: string; jti?: string }) => {
    this.#epoch++;
    if (e.jti) void this.recheck([...this.host.socketsWithJti(e.jti)]);
    if (e.userId) void this.recheck([...this.host.socketsOfUser(e.userId)]);
  };
  readonly #onUserChanged = (userId: string) => {
    this.#epoch++;
    void this.refreshUser(userId);
  };

  constructor(
    private readonly host: SessionWatchHost,
    private readonly auth: Pick<AuthModule, "revocation" | "userCache">,
    private readonly log: Logger,
  ) {}

  /** Bumped by every event; a socket whose authentication spanned a bump is checked again. */
  get epoch(): number {
    return this.#epoch;
  }

  start(): void {
    this.auth.revocation.listeners.add(this.#onRevocation);
    this.auth.userCache.listeners.add(this.#onUserChanged);
  }

  stop(): void {
    this.auth.revocation.listeners.delete(this.#onRevocation);
    this.auth.userCache.listeners.delete(this.#onUserChanged);
  }

  /** Closes the sockets whose token is now revoked (by jti or by the user's `revoked_at`). */
  async recheck(conns: readonly WsConnection[]): Promise<void> {
    await Promise.all(conns.map(async (conn) => {
      if (conn.state !== "authenticated" || conn.userId === null) return;
      const claims = { id: conn.userId, jti: conn.jti ?? undefined, iat: conn.iat, exp: conn.exp };
      try {
        const revoked = this.auth.revocation.revokedLocally(claims) ?? (await this.auth.revocation.isRevoked(claims));
        if (revoked && conn.state === "authenticated") this.host.end(conn, CLOSE.UNAUTHORIZED, "Unauthorized");
      } catch (e) {
        // Store down (failure mode closed): the socket stays; the next event or join checks again.
        this.log.warn({ err: (e as Error).message, socket: conn.id }, "could not re-check a socket's session");
      }
    }));
  }

  /** Re-reads a changed user: closes their sockets when gone or no longer `user`/`admin`, else updates the snapshot. */
  async refreshUser(userId: string): Promise<void> {
    if (isEmpty(this.host.socketsOfUser(userId))) return;
    let user;
    try {
      user = await this.auth.userCache.get(userId);
    } catch (e) {
      this.log.warn({ err: (e as Error).message, userId }, "could not re-read a changed user for their sockets");
      return;
    }
    if (!user || (user.role !== "user" && user.role !== "admin")) {
      for (const conn of [...this.host.socketsOfUser(userId)]) this.host.end(conn, CLOSE.UNAUTHORIZED, "Unauthorized");
      return;
    }
    this.host.updateUser(poolUser(user));
  }
}

function isEmpty(it: Iterable<unknown>): boolean {
  for (const _ of it) return false;
  return true;
}
