/**
 * OAuth/OIDC sign-in as a flow, apart from HTTP routing (the way `auth/password-sign-in.ts`
 * works): start a login at the provider, and finish it on the callback — transaction, code
 * exchange, user, groups, access check, provider session, Gatehouse session. Each step answers
 * with the redirect to send; a refused login redirects to `/auth?error=<code>`.
 */
import type { SecondStepChallenge } from "../auth/second-factor.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import { NotFoundError } from "../auth/auth-errors.ts";
import { COOKIE_OAUTH_ID_TOKEN, COOKIE_OAUTH_SESSION, setCookie } from "../auth/cookies.ts";
import type { GroupsModule } from "../groups/groups-module.ts";
import { clientAddress } from "../net/client-address.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import type { OAuthModule } from "./oauth-module.ts";
import { OAuthLoginError } from "./oauth-errors.ts";
import type { OAuthProvider } from "./provider.ts";
import { tokenDictFrom } from "./token-dict.ts";

/** Browsers drop cookies above 4 KB; the ID token cookie is skipped rather than truncated. */
const MAX_COOKIE_BYTES = 4096;

/** What the OAuth flows need. */
export interface OAuthFlowDeps {
  auth: AuthModule;
  oauth: OAuthModule;
  /** Group sync from claims, when groups are on. */
  groups?: GroupsModule | undefined;
  audit: AuditTrail;
  /** `GATEHOUSE_TRUSTED_PROXIES`, for the client address recorded with the session. */
  trustedProxies: readonly string[];
}

/** A flow's answer: where to send the browser, with the cookies to set. */
export interface OAuthRedirect {
  location: string;
  cookies: string[];
  /** The user has a second factor: answer this step (with `cookies`) instead of redirecting. */
  challenge?: SecondStepChallenge;
}

/** A refused login: audited, the transaction cookie cleared, back to the sign-in page with the code. */
export function refusedLogin(d: OAuthFlowDeps, e: OAuthLoginError, provider: string): OAuthRedirect {
  d.audit.record("oauth_login", "refused", { provider, reason: e.code });
  return { location: `/auth?error=${encodeURIComponent(e.code)}`, cookies: [d.oauth.transactions.clearCookie()] };
}

/** Runs `step`; an {@link OAuthLoginError} becomes the refusal redirect, anything else propagates. */
export async function orRefused(d: OAuthFlowDeps, provider: string, step: () => Promise<OAuthRedirect>): Promise<OAuthRedirect> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof OAuthLoginError) return refusedLogin(d, e, provider);
    throw e;
  }
}

/** Starts a login transaction and answers with the provider's authorisation URL. */
export function beginAuthorization(d: OAuthFlowDeps, provider: OAuthProvider, redirectUri: string, opts?: { userId: string; next: string }): Promise<OAuthRedirect> {
  return orRefused(d, provider.name, async () => {
    const { secrets, cookie } = await d.oauth.transactions.begin(provider.name, redirectUri, opts);
    return { location: (await provider.authorizationUrl(secrets)).href, cookies: [cookie] };
  });
}

/** The configured sign-in provider called `name`. @throws NotFoundError */
export function signInProvider(d: OAuthFlowDeps, name: string): OAuthProvider {
  const p = d.oauth.providers.get(name);
  if (!p) throw new NotFoundError();
  return p;
}

/** `/oauth/{provider}/login`: to the provider, back to `{baseUrl}/oauth/{provider}/login/callback` unless it names its own. */
export function beginOAuthSignIn(d: OAuthFlowDeps, providerName: string, baseUrl: string): Promise<OAuthRedirect> {
  const provider = signInProvider(d, providerName);
  return beginAuthorization(d, provider, provider.redirectUri ?? `${baseUrl}/oauth/${provider.name}/login/callback`);
}

/** The `oauth_id_token` cookie as Open WebUI sets it, unless there is no ID token or it is too big for a cookie. */
function idTokenCookie(auth: AuthModule, idToken: string | undefined, expiresAt: number | null): string[] {
  if (!idToken) return [];
  const c = setCookie(COOKIE_OAUTH_ID_TOKEN, idToken, auth.cookies, { httpOnly: true, expiresAt });
  return c.length <= MAX_COOKIE_BYTES ? [c] : [];
}

/**
 * The provider's callback: finishes the transaction, resolves the user, syncs groups, checks
 * access, stores the provider session and signs in (session, OAuth-session and ID-token cookies).
 */
export function completeOAuthSignIn(d: OAuthFlowDeps, request: Request, providerName: string): Promise<OAuthRedirect> {
  const provider = signInProvider(d, providerName);
  const { auth, oauth } = d;
  return orRefused(d, providerName, async () => {
    const pending = await oauth.transactions.consume(request, providerName);
    const login = await provider.exchange(new URL(request.url), pending);
    const user = await oauth.users.resolve(providerName, login);
    await d.groups?.fromClaims(user.id, login.claims);
    // GATEHOUSE_ACCESS_GROUPS: refused before a provider session is stored (the issuer asks again).
    await auth.access.admit(user, "oauth");
    const dict = tokenDictFrom(login.tokenResponse, Math.floor(Date.now() / 1000));
    // A user with a second factor is asked for it before any session exists. The provider session is
    // held (sealed) in the pending sign-in and stored only when the step is done, linked to the device
    // session then issued; its cookie goes with the challenge. An unfinished login stores nothing, so
    // the first factor alone cannot push the user's devices out through the per-user limit.
    const held = await oauth.sessions.hold(providerName, dict);
    const challenge = await auth.secondFactor?.challenge(user, request, { method: "oauth", amr: ["oauth"], providerSession: held });
    if (challenge) {
      const cookies = [challenge.cookie, setCookie(COOKIE_OAUTH_SESSION, held.id, auth.cookies, { httpOnly: true }), oauth.transactions.clearCookie()];
      d.audit.record("oauth_login", "success", { provider: providerName, userId: user.id, second_step: "pending" });
      return { location: pending.next, challenge, cookies: [...cookies, ...idTokenCookie(auth, dict.id_token, null)] };
    }
    await oauth.sessions.keep(user.id, held);
    const sessionId = held.id;
    const issued = await auth.issuer.issue(user, {
      method: "oauth",
      userAgent: request.headers.get("user-agent"),
      ip: clientAddress(request, d.trustedProxies),
      oauthSessionId: sessionId,
    });
    const cookies = [
      issued.cookie,
      setCookie(COOKIE_OAUTH_SESSION, sessionId, auth.cookies, { httpOnly: true, expiresAt: issued.expiresAt }),
      oauth.transactions.clearCookie(),
    ];
    cookies.push(...idTokenCookie(auth, dict.id_token, issued.expiresAt));
    d.audit.record("oauth_login", "success", { provider: providerName, userId: user.id, session: issued.jti });
    return { location: pending.next, cookies };
  });
}
