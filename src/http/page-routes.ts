import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { OAuthModule } from "../oauth/oauth-module.ts";
import type { Principal } from "../auth/current-user.ts";
import { ServiceError } from "../errors.ts";
import { deleteAuthCookies } from "../auth/cookies.ts";
import { passwordSignIn, signUp, signUpOpen } from "../auth/password-sign-in.ts";
import { signOutSession } from "../auth/sign-out.ts";
import type { SignInContext } from "../auth/session-issuer.ts";
import type { UserRecord } from "../db/repos/users.ts";
import { OAuthSessionsRepo } from "../db/repos/oauth-sessions.ts";
import { clientAddress } from "../net/client-address.ts";
import { assertSameOrigin } from "../pages/csrf.ts";
import { nextFromQuery, safeNext } from "../pages/next-path.ts";
import { page, seeOther, type Flash } from "../pages/layout.ts";
import { providerSignOutPage } from "../pages/signout-page.ts";
import { authPageBody, flashFrom, type NoticeCode, type ProviderButton } from "../pages/auth-page.ts";
import { sessionsPageBody } from "../pages/sessions-page.ts";
import type { LdapModule } from "../ldap/ldap-module.ts";
import { LdapDisabledError } from "../ldap/ldap-errors.ts";
import { challengePage } from "./mfa-page-routes.ts";
import { mfaScriptUrl } from "../pages/mfa-script.ts";

const LABELS: Record<string, string> = { google: "Google", microsoft: "Microsoft", github: "GitHub" };
const notice = (path: string, code: NoticeCode) => `${path}?notice=${code}`;

/**
 * The server-rendered pages: `/auth` (sign-in, provider buttons, sign-up when open) and
 * `/account/sessions` (devices: revoke one, sign out everywhere else), with their form posts.
 * The posts run the same code as the JSON API and are refused unless sent from our own pages.
 */
export function pageRoutes(s: Services, auth: AuthModule, oauth: OAuthModule, ldap: LdapModule | null = null) {
  const deps = { auth, config: s.config, audit: s.audit };
  const publicOrigin = s.config.server.publicUrl === null ? null : new URL(s.config.server.publicUrl).origin;
  const sameOrigin = (request: Request) => assertSameOrigin(request, publicOrigin);
  const oauthSessions = new OAuthSessionsRepo(s.pool);
  const providers: ProviderButton[] = [...oauth.providers.keys()].map((name) => ({
    name, label: name === "oidc" ? s.config.oauth.providerName : (LABELS[name] ?? name),
  }));
  const context = (request: Request, method: SignInContext["method"]): SignInContext => ({
    method, userAgent: request.headers.get("user-agent"), ip: clientAddress(request, s.config.server.trustedProxies),
  });
  /** The signed-in principal; null when there is none or it was refused (outages still throw). */
  const principal = async (request: Request): Promise<Principal | null> => {
    try {
      return await auth.current.resolve(request);
    } catch (e) {
      if (e instanceof ServiceError && e.status >= 500) throw e;
      // A session limited to enrolling a second factor is alive: send it where it can go.
      if (e instanceof ServiceError && e.code === "ERR_MFA_ENROLMENT_REQUIRED") {
        throw new ServiceError(e.code, 303, e.message).withHeader("location", "/account/security").withHeader("cache-control", "no-store");
      }
      return null;
    }
  };
  const presentedCookie = (request: Request) => /(?:^|;\s*)token=/.test(request.headers.get("cookie") ?? "");
  const signedOutRedirect = (request: Request) =>
    presentedCookie(request) ? seeOther(notice("/auth", "session_ended"), deleteAuthCookies(auth.cookies)) : seeOther("/auth");
  const ldapLabel = ldap?.label ?? null;
  const passkeys = auth.secondFactor?.passkeys === true;
  const authPage = async (request: Request, flash: Flash | null, status = 200, email?: string, headers: Array<[string, string]> = [], form: { next?: string | null; ldapUser?: string } = {}) => {
    const res = page({
      title: "Sign in", flash, status,
      body: authPageBody({ signedInAs: null, providers, signUpOpen: await signUpOpen(deps), email, ldapLabel, ldapUser: form.ldapUser, next: form.next ?? null, passkeys }),
      script: passkeys ? mfaScriptUrl(s.config.server.publicUrl, request) : undefined,
    });
    for (const [k, v] of headers) res.headers.set(k, v);
    return res;
  };
  const signedIn = async (request: Request, user: UserRecord, method: SignInContext["method"], next: string | null = null) => {
    const issued = await auth.issuer.issue(user, context(request, method));
    return seeOther(next ?? "/account/sessions", [issued.cookie]);
  };
  /** A refused form post re-renders the page with the reason (4xx); anything else propagates. */
  const refusedForm = (request: Request, e: unknown, email: string, form: { next?: string | null; ldapUser?: string } = {}) => {
    // A directory outage (503) is the user's business too: it is shown, with its Retry-After.
    const shown = e instanceof ServiceError && (e.status < 500 || (form.ldapUser !== undefined && e.status === 503));
    if (!shown) throw e;
    const headers: Array<[string, string]> = e.retryAfterSeconds !== undefined ? [["retry-after", String(e.retryAfterSeconds)]] : [];
    return authPage(request, { kind: "error", text: e.message }, e.status, email, headers, form);
  };
  /** Our own origins, for an absolute `next`/`rd`. */
  const ownOrigins = (request: Request) => [new URL(request.url).origin, ...(publicOrigin ? [publicOrigin] : [])];
  const form = async (request: Request) => new URLSearchParams(await request.text());

  return new Elysia({ name: "gatehouse.pages" })
    .get("/auth", async ({ request }) => {
      const p = await principal(request);
      const next = nextFromQuery(new URL(request.url), ownOrigins(request));
      if (p && next) return seeOther(next);
      if (!p && next) return authPage(request, flashFrom(new URL(request.url).searchParams), 200, undefined, [], { next });
      if (p) return page({ title: "Signed in", flash: flashFrom(new URL(request.url).searchParams), body: authPageBody({ signedInAs: p.user, providers, signUpOpen: false }) });
      return authPage(request, flashFrom(new URL(request.url).searchParams));
    })
    .post("/auth/signin", async ({ request }) => {
      sameOrigin(request);
      const f = await form(request);
      const email = f.get("email") ?? "";
      const next = safeNext(f.get("next"), ownOrigins(request));
      try {
        const user = await passwordSignIn(deps, email, f.get("password") ?? "", clientAddress(request, s.config.server.trustedProxies));
        const challenge = await auth.secondFactor?.challenge(user, request, { method: "password", amr: ["pwd"] });
        if (challenge) return challengePage(s, request, challenge);
        return await signedIn(request, user, "password", next);
      } catch (e) {
        return refusedForm(request, e, email, { next });
      }
    }, { parse: "none" })
    .post("/auth/ldap", async ({ request }) => {
      sameOrigin(request);
      const f = await form(request);
      const user = f.get("user") ?? "";
      try {
        if (!ldap) throw new LdapDisabledError();
        const { user: account } = await ldap.signIn(user, f.get("password") ?? "", clientAddress(request, s.config.server.trustedProxies));
        const challenge = await auth.secondFactor?.challenge(account, request, { method: "ldap", amr: ["ldap"] });
        if (challenge) return challengePage(s, request, challenge);
        return await signedIn(request, account, "ldap");
      } catch (e) {
        return refusedForm(request, e, "", { ldapUser: user.slice(0, 256) });
      }
    }, { parse: "none" })
    .post("/auth/signup", async ({ request }) => {
      sameOrigin(request);
      const f = await form(request);
      try {
        const user = await signUp(deps, { name: f.get("name") ?? "", email: f.get("email") ?? "", password: f.get("password") ?? "" });
        return await signedIn(request, user, "signup");
      } catch (e) {
        return refusedForm(request, e, f.get("email") ?? "");
      }
    }, { parse: "none" })
    .post("/auth/signout", async ({ request }) => {
      sameOrigin(request);
      const providerLogout = (await auth.providerLogoutUrl?.(request)) ?? null;
      const cookies = await signOutSession(request, auth, oauthSessions, s.audit);
      return providerLogout ? providerSignOutPage(providerLogout, cookies) : seeOther(notice("/auth", "signed_out"), cookies);
    }, { parse: "none" })
    .get("/account/sessions", async ({ request }) => {
      const p = await principal(request);
      if (!p) return signedOutRedirect(request);
      const rows = await auth.sessions.listLive(p.user.id);
      return page({
        title: "Your devices",
        flash: flashFrom(new URL(request.url).searchParams),
        body: sessionsPageBody(p.user, rows.map((r) => ({
          id: r.id, userAgent: r.user_agent, ip: r.ip, method: r.auth_method, amr: r.amr ? r.amr.split(",") : [],
          createdAt: Number(r.created_at), lastSeenAt: Number(r.last_seen_at), current: r.id === p.claims?.jti,
        }))),
      });
    })
    .post("/account/sessions/:id/revoke", async ({ params, request }) => {
      sameOrigin(request);
      const p = await principal(request);
      if (!p) return signedOutRedirect(request);
      const row = await auth.sessions.byId(params.id);
      // Someone else's (or an unknown) session: the same answer, ids are not to be probed.
      if (!row || row.user_id !== p.user.id || row.revoked_at !== null) return seeOther(notice("/account/sessions", "already_ended"));
      await auth.revoker.revokeIds([row.id]);
      return seeOther(notice("/account/sessions", "revoked"));
    }, { parse: "none" })
    .post("/account/sessions/revoke-others", async ({ request }) => {
      sameOrigin(request);
      const p = await principal(request);
      if (!p) return signedOutRedirect(request);
      await auth.revoker.revokeAllExcept(p.user.id, p.claims?.jti ?? null);
      return seeOther(notice("/account/sessions", "revoked_others"));
    }, { parse: "none" });
}
