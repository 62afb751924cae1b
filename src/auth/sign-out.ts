import type { OAuthSessionsRepo } from "../db/repos/oauth-sessions.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import type { AuthModule } from "./auth-module.ts";
import { COOKIE_OAUTH_SESSION, deleteAuthCookies, readCookie } from "./cookies.ts";

/**
 * Signs out the presented session: revokes its token (if it is a valid one) on every
 * instance, deletes this device's OAuth session row (other devices keep theirs), and
 * returns the `Set-Cookie` values that clear every auth cookie.
 * @throws only when the store or database is unavailable: an outage must not pretend the token was revoked.
 */
export async function signOutSession(request: Request, auth: AuthModule, oauthSessions: OAuthSessionsRepo, audit: AuditTrail): Promise<string[]> {
  const cookies = deleteAuthCookies(auth.cookies);
  try {
    const p = await auth.current.resolve(request);
    if (p.claims?.jti) await auth.revoker.revokeOne(p.claims.jti, p.claims.exp);
    const oauthSessionId = readCookie(request.headers.get("cookie"), COOKIE_OAUTH_SESSION);
    if (oauthSessionId) await oauthSessions.deleteForUser(oauthSessionId, p.user.id);
    audit.record("signout", "success", { userId: p.user.id, session: p.claims?.jti });
  } catch (e) {
    // A dead or missing token still signs out (cookies cleared).
    if ((e as { status?: number }).status !== undefined && (e as { status: number }).status >= 500) throw e;
  }
  return cookies;
}
