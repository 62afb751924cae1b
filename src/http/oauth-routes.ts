/**
 * OAuth sign-in (`/oauth/{provider}/login` and its callback, plus the legacy `/callback`),
 * provider-token access (`GET /api/v1/auths/oauth/token`), session removal
 * (`DELETE /api/v1/auths/oauth/sessions/{provider}`), back-channel logout, and the MCP tool-server
 * authorisation of a signed-in user (`/oauth/clients/{client_id}/authorize` and `/callback`).
 * The flows live in src/oauth/ (`oauth-sign-in.ts`, `mcp-authorization.ts`); this file routes.
 */
import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { OAuthModule } from "../oauth/oauth-module.ts";
import { NotFoundError } from "../auth/auth-errors.ts";
import { COOKIE_OAUTH_SESSION, readCookie } from "../auth/cookies.ts";
import { OAuthSessionNotFoundError } from "../oauth/oauth-errors.ts";
import { beginOAuthSignIn, completeOAuthSignIn, type OAuthFlowDeps, type OAuthRedirect } from "../oauth/oauth-sign-in.ts";
import { beginMcpAuthorization, completeMcpAuthorization } from "../oauth/mcp-authorization.ts";
import { backchannelLogout } from "../oauth/backchannel-logout.ts";
import { publicBaseUrl } from "./public-base-url.ts";
import { json } from "./respond.ts";
import { challengePage } from "./mfa-page-routes.ts";
import type { GroupsModule } from "../groups/groups-module.ts";

/** A flow's answer as a 302 that is never cached. */
function redirect({ location, cookies }: OAuthRedirect): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  for (const c of cookies) headers.append("set-cookie", c);
  return new Response(null, { status: 302, headers });
}

/** The callback's answer: the redirect, or — for a user with a second factor — its step (page). */
function answer(s: Pick<Services, "config">, request: Request, r: OAuthRedirect): Response {
  return r.challenge ? challengePage(s, request, r.challenge, r.cookies) : redirect(r);
}

/** See the module comment. */
export function oauthRoutes(s: Pick<Services, "config" | "audit" | "store" | "log">, auth: AuthModule, oauth: OAuthModule, groups?: GroupsModule) {
  const d: OAuthFlowDeps = { auth, oauth, groups, audit: s.audit, trustedProxies: s.config.server.trustedProxies };
  const baseUrl = (request: Request) => publicBaseUrl(request, s.config.server);

  return new Elysia({ name: "gatehouse.oauth" })
    .get("/oauth/:provider/login", async ({ params, request }) => redirect(await beginOAuthSignIn(d, params.provider, baseUrl(request))))
    .get("/oauth/:provider/login/callback", async ({ params, request }) => answer(s, request, await completeOAuthSignIn(d, request, params.provider)))
    .get("/oauth/:provider/callback", async ({ params, request }) => answer(s, request, await completeOAuthSignIn(d, request, params.provider)))

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
      return redirect(await beginMcpAuthorization(d, params.client_id, p.user.id, baseUrl(request)));
    })
    .get("/oauth/clients/:client_id/callback", async ({ params, request }) => {
      const p = await auth.current.resolve(request);
      return redirect(await completeMcpAuthorization(d, request, params.client_id, p.user.id));
    })
    .post("/oauth/backchannel-logout", async ({ request }) => {
      if (!s.config.oauth.backchannelLogout) throw new NotFoundError();
      const form = new URLSearchParams(await request.text());
      return backchannelLogout(form.get("logout_token"), oauth, auth, s.store, s.log);
    }, { parse: "none" });
}
