import type { DeviceSession, DeviceSessionsRepo } from "../db/repos/device-sessions.ts";
import type { RevocationService } from "./revocation.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";

/**
 * Ends device sessions: marks their rows revoked and revokes their tokens through the
 * revocation path (so every instance refuses them within a second).
 */
export class SessionRevoker {
  constructor(
    private readonly sessions: DeviceSessionsRepo,
    private readonly revocation: RevocationService,
    private readonly audit?: AuditTrail,
  ) {}

  /** Revokes one token by jti (its row, if any, is marked too). */
  async revokeOne(jti: string, exp: number | undefined): Promise<void> {
    await this.revocation.revokeToken(jti, exp);
    await this.sessions.markRevoked([jti]);
    this.audit?.record("revocation", "success", { scope: "token", session: jti });
  }

  /** Revokes the given session ids; returns those that were live. */
  async revokeIds(ids: readonly string[]): Promise<DeviceSession[]> {
    const rows = await this.sessions.markRevoked(ids);
    await this.#revokeTokens(rows);
    this.#audited("sessions", rows);
    return rows;
  }

  /** Revokes every live session of a user except `keepJti`. */
  async revokeAllExcept(userId: string, keepJti: string | null): Promise<DeviceSession[]> {
    const rows = await this.sessions.markAllRevoked(userId, keepJti);
    await this.#revokeTokens(rows);
    this.#audited("other_sessions", rows, userId);
    return rows;
  }

  /**
   * Signs the user out everywhere: every token issued up to now, by Gatehouse or by Open
   * WebUI, through the per-user `revoked_at` key, and every session row.
   */
  async revokeUser(userId: string): Promise<void> {
    await this.revocation.revokeUser(userId);
    const rows = await this.sessions.markAllRevoked(userId, null);
    this.#audited("user", rows, userId);
  }

  #audited(scope: string, rows: readonly DeviceSession[], userId = rows[0]?.user_id): void {
    this.audit?.record("revocation", "success", { scope, userId, sessions: rows.map((r) => r.id) });
  }

  async #revokeTokens(rows: readonly DeviceSession[]): Promise<void> {
    await Promise.all(rows.map((r) => this.revocation.revokeToken(r.id, r.expires_at ?? undefined)));
  }
}
