import type { AuthModule } from "../auth/auth-module.ts";
import type { OAuthSessionsRepo } from "../db/repos/oauth-sessions.ts";

/**
 * Ends everything a deprovisioned user holds, through the admin revocation path: every
 * token issued until now (Gatehouse's and Open WebUI's, via the per-user `revoked_at`
 * announced to every instance, whose socket watchers then close the user's sockets) and
 * every device session (`SessionRevoker.revokeUser`), the API key, every provider session
 * row; then every instance drops its cached copy of the user and of the key lookup.
 */
export class Deprovisioner {
  constructor(
    private readonly auth: Pick<AuthModule, "revoker" | "apiKeys" | "current" | "userCache">,
    private readonly oauthSessions: OAuthSessionsRepo,
  ) {}

  async endEverySession(userId: string): Promise<void> {
    await this.auth.revoker.revokeUser(userId);
    await this.auth.apiKeys.delete(userId);
    await this.oauthSessions.deleteForUserProvider(userId, null);
    this.auth.current.forgetApiKeys();
    await this.auth.userCache.invalidate(userId);
  }
}
