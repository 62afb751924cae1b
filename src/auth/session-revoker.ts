import type { DeviceSession, DeviceSessionsRepo } from "../db/repos/device-sessions.ts";
import type { RevocationService } from "./revocation.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";

/**
 * Ends device sessions: marks their rows revoked and revokes their tokens through the
 * revocation path (the durable record first, so every instance refuses them within a
 * second or two even while the store is down).
 */
export class SessionRevoker {
  constructor(
    private readonly sessions: DeviceSessionsRepo,
    private readonly revocation: RevocationService,
    private readonly audit?: AuditTrail,
  ) {}

  /**
   * Revokes one token by jti, or by digest id for a token without one (its row, if any, is
   * marked too), for as long as the longest-lived token of its session.
   */
  async revokeOne(jti: string, exp: number | undefined, userId: string | null = null): Promise<void> {
    await this.revocation.revokeToken(jti, exp, undefined, userId);
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
   * WebUI, through the per-user `revoked_at`, and every session row. API keys created until
   * now stop working too unless `apiKeys` is false (a password change alone keeps them).
   */
  async revokeUser(userId: string, opts: { apiKeys?: boolean } = {}): Promise<void> {
    await this.revocation.revokeUser(userId, undefined, { apiKeys: opts.apiKeys ?? true });
    const rows = await this.sessions.markAllRevoked(userId, null);
    this.#audited("user", rows, userId);
  }

  #audited(scope: string, rows: readonly DeviceSession[], userId = rows[0]?.user_id): void {
    this.audit?.record("revocation", "success", { scope, userId, sessions: rows.map((r) => r.id) });
  }

  async #revokeTokens(rows: readonly DeviceSession[]): Promise<void> {
    await Promise.all(rows.map((r) => this.revocation.revokeToken(r.id, r.expires_at ?? undefined, undefined, r.user_id)));
  }
}
