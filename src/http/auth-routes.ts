import { Elysia, t } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import { BadRequestError, ForbiddenError } from "../auth/auth-errors.ts";
import { MESSAGES } from "../auth/messages.ts";
import { checkNewPassword, checkPasswordLength, isValidEmail } from "../auth/credentials-policy.ts";
import { sessionUserResponse } from "../auth/user-response.ts";
import { COOKIE_OAUTH_SESSION, deleteAuthCookies, readCookie } from "../auth/cookies.ts";
import { OAuthSessionsRepo } from "../db/repos/oauth-sessions.ts";
import { userFromTrustedHeader } from "../auth/trusted-header.ts";
import type { SignInContext } from "../auth/session-issuer.ts";
import type { UserRecord } from "../db/repos/users.ts";
import { clientAddress } from "./client-address.ts";
import { json } from "./respond.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";

const SignUpBody = t.Object({
  name: t.String({ maxLength: 255 }),
  email: t.String({ maxLength: 320 }),
  password: t.String({ maxLength: 4096 }),
  profile_image_url: t.Optional(t.String({ maxLength: 1_000_000 })),
});
const SignInBody = t.Object({ email: t.String({ maxLength: 320 }), password: t.String({ maxLength: 4096 }) });

/** Open WebUI's sign-up, sign-in, sign-out and session-user routes. */
export function authRoutes(s: Services, auth: AuthModule) {
  const oauthSessions = new OAuthSessionsRepo(s.pool);
  const context = (request: Request, method: SignInContext["method"]): SignInContext => ({
    method,
    userAgent: request.headers.get("user-agent"),
    ip: clientAddress(request, s.config.server.trustedProxies),
  });
  const signedIn = async (request: Request, user: UserRecord, method: SignInContext["method"]) => {
    const issued = await auth.issuer.issue(user, context(request, method));
    return json(sessionUserResponse(user, issued.token, issued.expiresAt), { cookies: [issued.cookie] });
  };

  return new Elysia({ name: "gatehouse.auth", prefix: "/api/v1/auths" })
    .post("/signup", async ({ body, request }) => {
      const existingUsers = await auth.users.count();
      if (existingUsers > 0 && !s.config.auth.enableSignup) throw new ForbiddenError(MESSAGES.ACCESS_PROHIBITED, "ERR_SIGNUP_CLOSED");
      const email = body.email.trim().toLowerCase();
      if (!isValidEmail(email)) throw new BadRequestError(MESSAGES.INVALID_EMAIL_FORMAT, "ERR_EMAIL_FORMAT");
      checkNewPassword(body.password);
      if (await auth.users.byEmail(email)) throw new BadRequestError(MESSAGES.EMAIL_TAKEN, "ERR_EMAIL_TAKEN");
      const passwordHash = await auth.passwords.hash(body.password);
      let user: UserRecord;
      try {
        user = await auth.users.insert(
          { id: crypto.randomUUID(), email, name: body.name.trim() || email, role: s.config.auth.defaultUserRole, passwordHash, profileImageUrl: body.profile_image_url },
          true,
        );
      } catch (e) {
        if ((e as { code?: string }).code === "23505") throw new BadRequestError(MESSAGES.EMAIL_TAKEN, "ERR_EMAIL_TAKEN");
        throw e;
      }
      return signedIn(request, user, "signup");
    }, { body: SignUpBody })

    .post("/signin", async ({ body, request }) => {
      if (s.config.auth.trustedEmailHeader) {
        return signedIn(request, await userFromTrustedHeader(request, auth, s.config), "trusted_header");
      }
      const email = body.email.trim().toLowerCase();
      const ip = clientAddress(request, s.config.server.trustedProxies);
      await auth.rateLimit.check(email, ip).catch((e: unknown) => {
        s.audit.record("signin", "rate_limited", { email, ip });
        throw e;
      });
      checkPasswordLength(body.password);
      const creds = await auth.users.credentialsByEmail(email);
      let ok = false;
      if (creds?.password && creds.active) {
        ok = await auth.passwords.verify(body.password, creds.password);
      } else {
        // Unknown email: spend the same work, so timing does not tell which emails exist.
        await auth.passwords.verifyDummy(body.password);
      }
      if (!ok || !creds) {
        await auth.rateLimit.fail(email, ip);
        s.audit.record("signin", "failure", { email, ip, reason: creds ? "password" : "unknown_email" });
        throw new BadRequestError(MESSAGES.INVALID_CRED, "ERR_INVALID_CREDENTIALS");
      }
      if (auth.passwords.needsRehash(creds.password!)) {
        await auth.users.updatePassword(creds.user.id, await auth.passwords.hash(body.password));
      }
      return signedIn(request, creds.user, "password");
    }, { body: SignInBody })

    .get("/signout", ({ request }) => signOut(request, auth, oauthSessions, s.audit))
    .post("/signout", ({ request }) => signOut(request, auth, oauthSessions, s.audit))

    .post("/signout/everywhere", async ({ request }) => {
      const p = await auth.current.resolve(request);
      await auth.revoker.revokeUser(p.user.id);
      return json({ status: true }, { cookies: deleteAuthCookies(auth.cookies) });
    })

    .get("/", async ({ request }) => {
      const p = await auth.current.resolve(request);
      const claims = p.claims;
      if (claims?.jti && auth.issuer.shouldRenew(claims)) {
        const renewed = await auth.issuer.renew(p.user, claims.jti);
        return json(sessionUserResponse(p.user, renewed.token, renewed.expiresAt), { cookies: [renewed.cookie] });
      }
      return json(sessionUserResponse(p.user, p.credential.value, claims?.exp ?? null));
    });
}

/**
 * Revokes the presented token (if it is a valid one), deletes this device's OAuth session row
 * (only that one: other devices keep theirs) and clears every auth cookie.
 */
async function signOut(request: Request, auth: AuthModule, oauthSessions: OAuthSessionsRepo, audit: AuditTrail): Promise<Response> {
  const cookies = deleteAuthCookies(auth.cookies);
  try {
    const p = await auth.current.resolve(request);
    if (p.claims?.jti) await auth.revoker.revokeOne(p.claims.jti, p.claims.exp);
    const oauthSessionId = readCookie(request.headers.get("cookie"), COOKIE_OAUTH_SESSION);
    if (oauthSessionId) await oauthSessions.deleteForUser(oauthSessionId, p.user.id);
    audit.record("signout", "success", { userId: p.user.id, session: p.claims?.jti });
  } catch (e) {
    // A dead or missing token still signs out (cookies cleared); an outage must not pretend the token was revoked.
    if ((e as { status?: number }).status !== undefined && (e as { status: number }).status >= 500) throw e;
  }
  return json({ status: true }, { cookies });
}
