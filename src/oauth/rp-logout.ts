/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), as Open WebUI answers sign-out:
 * when the session being signed out came from a provider with an `end_session_endpoint`, the
 * sign-out answer carries that provider's logout URL (`id_token_hint` from the stored session,
 * `post_logout_redirect_uri` = `WEBUI_URL`, a fresh `state`) for the browser to follow.
 */
import * as oauth from "oauth4webapi";
import type { AuthModule } from "../auth/auth-module.ts";
import { COOKIE_OAUTH_SESSION, readCookie } from "../auth/cookies.ts";
import type { OAuthSessions } from "./oauth-sessions.ts";
import type { OAuthProvider } from "./provider.ts";

/**
 * The logout URL for the OAuth session of `request` (its `oauth_session_id` cookie, read before
 * sign-out deletes the row), or null: no such session, a provider without logout, or the
 * provider unreachable — sign-out itself never waits on or fails because of the provider.
 */
export async function providerLogoutUrl(
  request: Request,
  deps: { auth: AuthModule; sessions: OAuthSessions; providers: ReadonlyMap<string, OAuthProvider>; publicUrl: string | null },
): Promise<string | null> {
  const sessionId = readCookie(request.headers.get("cookie"), COOKIE_OAUTH_SESSION);
  if (!sessionId) return null;
  try {
    const p = await deps.auth.current.resolve(request);
    const open = await deps.sessions.open(sessionId, p.user.id);
    const provider = open ? deps.providers.get(open.row.provider) : undefined;
    if (!open || !provider?.endSessionUrl) return null;
    const url = await provider.endSessionUrl({ idTokenHint: open.dict.id_token ?? null, postLogoutRedirectUri: deps.publicUrl, state: oauth.generateRandomState() });
    return url?.href ?? null;
  } catch {
    return null;
  }
}
