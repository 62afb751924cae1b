/**
 * OpenID Connect Back-Channel Logout 1.0: a logout token from a configured provider (signature
 * by its JWKS, `iss`, `aud`, `iat`, the logout event, no `nonce`) ends the user's sessions at
 * that provider and revokes every Gatehouse token of the user through the revocation path.
 */
import type { AuthModule } from "../auth/auth-module.ts";
import type { Logger } from "../observability/logger.ts";
import type { KeyValueStore } from "../kv/store.ts";
import type { OAuthModule } from "./oauth-module.ts";

const NO_STORE = { "cache-control": "no-store", "content-type": "application/json" };

/** Handles one logout request; answers 200 on success and 400 `invalid_request` otherwise (§2.8). */
export async function backchannelLogout(token: string | null, oauth: OAuthModule, auth: AuthModule, store: KeyValueStore, log: Logger): Promise<Response> {
  const bad = () => new Response(JSON.stringify({ error: "invalid_request" }), { status: 400, headers: NO_STORE });
  if (!token) return bad();
  for (const provider of oauth.providers.values()) {
    if (!provider.verifyLogoutToken) continue;
    let subject: { sub: string | null; sid: string | null; jti: string | null };
    try {
      subject = await provider.verifyLogoutToken(token);
    } catch {
      continue;
    }
    // Gatehouse does not keep provider `sid`s; a sid-only token cannot be mapped to a user.
    if (subject.sub === null) return bad();
    // §2.6: a logout token is used once (its jti, for as long as it could be accepted).
    if (subject.jti === null || !(await store.set(`oauth:logout-jti:${provider.name}:${subject.jti}`, "1", { onlyIfAbsent: true, ttlMs: 15 * 60_000 }))) return bad();
    const user = await auth.users.byOAuthSub(provider.name, subject.sub);
    if (user) {
      const ended = await oauth.sessions.repo.deleteForUserProvider(user.id, provider.name);
      await auth.revoker.revokeUser(user.id);
      log.info({ provider: provider.name, userId: user.id, oauthSessions: ended.length }, "back-channel logout");
    }
    return new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
  }
  log.info("back-channel logout token refused");
  return bad();
}
