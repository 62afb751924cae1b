import type { OAuthSessionsRepo } from "../db/repos/oauth-sessions.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import type { AuthModule } from "./auth-module.ts";
import { COOKIE_OAUTH_SESSION, deleteAuthCookies, readCookie } from "./cookies.ts";

/**
 * Signs out the presented session: revokes its token (by `jti`, or by digest for an Open
 * WebUI token without one) on every instance, deletes this device's OAuth session row (other
 * devices keep theirs), and returns the `Set-Cookie` values that clear every auth cookie.
 * Only the token's signature is checked, not the store: a sign-out works while Redis is
 * down (the durable record in Postgres is written first).
 * @throws only when the database is unavailable — an outage must not pretend the token was
 *   revoked — and even then the error clears the cookies.
 */
export async function signOutSession(request: Request, auth: AuthModule, oauthSessions: OAuthSessionsRepo, audit: AuditTrail): Promise<string[]> {
  const cookies = deleteAuthCookies(auth.cookies);
  // A dead or missing token still signs out (cookies cleared).
  const session = await auth.current.presentedSession(request);
  if (session === null) return cookies;
  try {
    const userId = session.claims.id;
    await auth.revoker.revokeOne(session.tokenId, session.claims.exp, userId);
    const oauthSessionId = readCookie(request.headers.get("cookie"), COOKIE_OAUTH_SESSION);
    if (oauthSessionId) await oauthSessions.deleteForUser(oauthSessionId, userId);
    audit.record("signout", "success", { userId, session: session.claims.jti });
  } catch (e) {
    const err = e as { status?: number; withHeader?: (name: string, value: string) => unknown };
    if (typeof err.withHeader === "function") for (const c of cookies) err.withHeader("set-cookie", c);
    throw e;
  }
  return cookies;
}
