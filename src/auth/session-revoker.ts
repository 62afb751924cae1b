import type { DeviceSession, DeviceSessionsRepo } from "../db/repos/device-sessions.ts";
import type { RevocationService } from "./revocation.ts";

/**
 * Ends device sessions: marks their rows revoked and revokes their tokens through the
 * revocation path (so every instance refuses them within a second).
 */
export class SessionRevoker {
  constructor(
    private readonly sessions: DeviceSessionsRepo,
    private readonly revocation: RevocationService,
  ) {}

  /** Revokes one token by jti (its row, if any, is marked too). */
  async revokeOne(jti: string, exp: number | undefined): Promise<void> {
    await this.revocation.revokeToken(jti, exp);
    await this.sessions.markRevoked([jti]);
  }

  /** Revokes the given session ids; returns those that were live. */
  async revokeIds(ids: readonly string[]): Promise<DeviceSession[]> {
    const rows = await this.sessions.markRevoked(ids);
    await this.#revokeTokens(rows);
    return rows;
  }

  /** Revokes every live session of a user except `keepJti`. */
  async revokeAllExcept(userId: string, keepJti: string | null): Promise<DeviceSession[]> {
    const rows = await this.sessions.markAllRevoked(userId, keepJti);
    await this.#revokeTokens(rows);
    return rows;
  }

  /**
   * Signs the user out everywhere: every token issued up to now, by Gatehouse or by Open
   * WebUI, through the per-user `revoked_at` key, and every session row.
   */
  async revokeUser(userId: string): Promise<void> {
    await this.revocation.revokeUser(userId);
    await this.sessions.markAllRevoked(userId, null);
  }

  async #revokeTokens(rows: readonly DeviceSession[]): Promise<void> {
    await Promise.all(rows.map((r) => this.revocation.revokeToken(r.id, r.expires_at ?? undefined)));
  }
}
