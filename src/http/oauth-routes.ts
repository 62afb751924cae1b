/**
 * OAuth sign-in (`/oauth/{provider}/login` and its callback, plus the legacy `/callback`),
 * provider-token access (`GET /api/v1/auths/oauth/token`), session removal
 * (`DELETE /api/v1/auths/oauth/sessions/{provider}`), back-channel logout, and the MCP tool-server
 * authorisation of a signed-in user (`/oauth/clients/{client_id}/authorize` and `/callback`).
 */
import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { OAuthModule } from "../oauth/oauth-module.ts";
import { NotFoundError } from "../auth/auth-errors.ts";
import { COOKIE_OAUTH_ID_TOKEN, COOKIE_OAUTH_SESSION, readCookie, setCookie } from "../auth/cookies.ts";
import { OAuthLoginError, OAuthSessionNotFoundError } from "../oauth/oauth-errors.ts";
import { tokenDictFrom } from "../oauth/token-dict.ts";
import { backchannelLogout } from "../oauth/backchannel-logout.ts";
import { clientAddress } from "../net/client-address.ts";
import { publicBaseUrl } from "./public-base-url.ts";
import { json } from "./respond.ts";
import type { GroupsModule } from "../groups/groups-module.ts";

/** Browsers drop cookies above 4 KB; the ID token cookie is skipped rather than truncated. */
const MAX_COOKIE_BYTES = 4096;

/** See the module comment. */
export function oauthRoutes(s: Services, auth: AuthModule, oauth: OAuthModule, groups?: GroupsModule) {
  const redirect = (location: string, cookies: readonly string[] = []) => {
    const headers = new Headers({ location, "cache-control": "no-store" });
    for (const c of cookies) headers.append("set-cookie", c);
    return new Response(null, { status: 302, headers });
  };
  const refused = (e: OAuthLoginError, provider: string) => {
    s.audit.record("oauth_login", "refused", { provider, reason: e.code });
    return redirect(`/auth?error=${encodeURIComponent(e.code)}`, [oauth.transactions.clearCookie()]);
  };
  const providerOf = (name: string) => {
    const p = oauth.providers.get(name);
    if (!p) throw new NotFoundError();
    return p;
  };

  const mcpOf = (clientId: string) => {
    const name = decodeURIComponent(clientId);
    const p = oauth.mcp.get(name) ?? oauth.mcp.get(`mcp:${name}`);
    if (!p) throw new NotFoundError();
    return p;
  };

  const callback = async (request: Request, name: string): Promise<Response> => {
    const provider = providerOf(name);
    try {
      const pending = await oauth.transactions.consume(request, name);
      const login = await provider.exchange(new URL(request.url), pending);
      const user = await oauth.users.resolve(name, login);
      await groups?.fromClaims(user.id, login.claims);
      // GATEHOUSE_ACCESS_GROUPS: refused before a provider session is stored (the issuer asks again).
      await auth.access.admit(user, "oauth");
      const dict = tokenDictFrom(login.tokenResponse, Math.floor(Date.now() / 1000));
      const sessionId = await oauth.sessions.create(user.id, name, dict);
      const issued = await auth.issuer.issue(user, {
        method: "oauth",
        userAgent: request.headers.get("user-agent"),
        ip: clientAddress(request, s.config.server.trustedProxies),
        oauthSessionId: sessionId,
      });
      const cookies = [
        issued.cookie,
        setCookie(COOKIE_OAUTH_SESSION, sessionId, auth.cookies, { httpOnly: true, expiresAt: issued.expiresAt }),
        oauth.transactions.clearCookie(),
      ];
      if (dict.id_token) {
        const c = setCookie(COOKIE_OAUTH_ID_TOKEN, dict.id_token, auth.cookies, { httpOnly: true, expiresAt: issued.expiresAt });
        if (c.length <= MAX_COOKIE_BYTES) cookies.push(c);
      }
      s.audit.record("oauth_login", "success", { provider: name, userId: user.id, session: issued.jti });
      return redirect(pending.next, cookies);
    } catch (e) {
      if (e instanceof OAuthLoginError) return refused(e, name);
      throw e;
    }
  };

  return new Elysia({ name: "gatehouse.oauth" })
    .get("/oauth/:provider/login", async ({ params, request }) => {
      const provider = providerOf(params.provider);
      const redirectUri = provider.redirectUri ?? `${publicBaseUrl(request, s.config.server)}/oauth/${provider.name}/login/callback`;
      const { secrets, cookie } = await oauth.transactions.begin(provider.name, redirectUri);
      try {
        return redirect((await provider.authorizationUrl(secrets)).href, [cookie]);
      } catch (e) {
        if (e instanceof OAuthLoginError) return refused(e, provider.name);
        throw e;
      }
    })
    .get("/oauth/:provider/login/callback", ({ params, request }) => callback(request, params.provider))
    .get("/oauth/:provider/callback", ({ params, request }) => callback(request, params.provider))

    .get("/api/v1/auths/oauth/token", async ({ request }) => {
      const p = await auth.current.resolve(request);
      const q = new URL(request.url).searchParams;
      const mcp = q.get("provider");
      // MCP tool runners know the server, not the session id: one session per user and client.
      const sessionId = mcp?.startsWith("mcp:")
        ? (await oauth.sessions.repo.listForUser(p.user.id, mcp))[0]?.id
        : q.get("session_id") ?? readCookie(request.headers.get("cookie"), COOKIE_OAUTH_SESSION);
      if (!sessionId) throw new OAuthSessionNotFoundError();
      return json(await oauth.tokens.getOAuthToken(p.user.id, sessionId), { headers: { "cache-control": "no-store" } });
    })
    .delete("/api/v1/auths/oauth/sessions/:provider", async ({ params, request }) => {
      const p = await auth.current.resolve(request);
      const deleted = await oauth.sessions.repo.deleteForUserProvider(p.user.id, params.provider);
      return json({ status: true, deleted: deleted.length });
    })
    .get("/oauth/clients/:client_id/authorize", async ({ params, request }) => {
      const p = await auth.current.resolve(request);
      const provider = mcpOf(params.client_id);
      const redirectUri = `${publicBaseUrl(request, s.config.server)}/oauth/clients/${provider.name}/callback`;
      const { secrets, cookie } = await oauth.transactions.begin(provider.name, redirectUri, { userId: p.user.id, next: "/" });
      try {
        return redirect((await provider.authorizationUrl(secrets)).href, [cookie]);
      } catch (e) {
        if (e instanceof OAuthLoginError) return refused(e, provider.name);
        throw e;
      }
    })
    .get("/oauth/clients/:client_id/callback", async ({ params, request }) => {
      const p = await auth.current.resolve(request);
      const provider = mcpOf(params.client_id);
      try {
        const pending = await oauth.transactions.consume(request, provider.name);
        if (pending.userId !== p.user.id) throw new OAuthLoginError("user_mismatch", "authorisation started by another user");
        const login = await provider.exchange(new URL(request.url), pending);
        // One session per user and MCP client: create() replaces the previous one.
        await oauth.sessions.create(p.user.id, provider.name, tokenDictFrom(login.tokenResponse, Math.floor(Date.now() / 1000)));
        return redirect(pending.next, [oauth.transactions.clearCookie()]);
      } catch (e) {
        if (e instanceof OAuthLoginError) return refused(e, provider.name);
        throw e;
      }
    })
    .post("/oauth/backchannel-logout", async ({ request }) => {
      if (!s.config.oauth.backchannelLogout) throw new NotFoundError();
      const form = new URLSearchParams(await request.text());
      return backchannelLogout(form.get("logout_token"), oauth, auth, s.store, s.log);
    }, { parse: "none" });
}
