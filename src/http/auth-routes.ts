import { Elysia, t } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import { sessionUserResponse } from "../auth/user-response.ts";
import { deleteAuthCookies } from "../auth/cookies.ts";
import { OAuthSessionsRepo } from "../db/repos/oauth-sessions.ts";
import { userFromTrustedHeader } from "../auth/trusted-header.ts";
import type { SignInContext } from "../auth/session-issuer.ts";
import type { UserRecord } from "../db/repos/users.ts";
import { clientAddress, fromTrustedProxy } from "../net/client-address.ts";
import type { GroupsModule } from "../groups/groups-module.ts";
import { json } from "./respond.ts";
import { passwordSignIn, signUp } from "../auth/password-sign-in.ts";
import { signOutSession } from "../auth/sign-out.ts";
import { signedInResponse } from "./signed-in.ts";

const SignUpBody = t.Object({
  name: t.String({ maxLength: 255 }),
  email: t.String({ maxLength: 320 }),
  password: t.String({ maxLength: 4096 }),
  profile_image_url: t.Optional(t.String({ maxLength: 1_000_000 })),
});
const SignInBody = t.Object({ email: t.String({ maxLength: 320 }), password: t.String({ maxLength: 4096 }) });

/** Open WebUI's sign-up, sign-in, sign-out and session-user routes. */
export function authRoutes(s: Services, auth: AuthModule, groups?: GroupsModule) {
  const oauthSessions = new OAuthSessionsRepo(s.pool);
  const deps = { auth, config: s.config, audit: s.audit };
  const signedIn = (request: Request, user: UserRecord, method: SignInContext["method"]) => signedInResponse(s, auth, request, user, { method });

  // As Open WebUI: `redirect_url` is the identity provider's logout URL when it has one.
  const signOut = async (request: Request) => {
    const redirectUrl = (await auth.providerLogoutUrl?.(request)) ?? null;
    const cookies = await signOutSession(request, auth, oauthSessions, s.audit);
    return json(redirectUrl ? { status: true, redirect_url: redirectUrl } : { status: true }, { cookies });
  };

  return new Elysia({ name: "gatehouse.auth", prefix: "/api/v1/auths" })
    .post("/signup", async ({ body, request }) => {
      const user = await signUp(deps, { name: body.name, email: body.email, password: body.password, profileImageUrl: body.profile_image_url });
      return signedIn(request, user, "signup");
    }, { body: SignUpBody })

    .post("/signin", async ({ body, request }) => {
      if (s.config.auth.trustedEmailHeader) {
        const user = await userFromTrustedHeader(request, auth, s.config, s.audit);
        await groups?.fromHeader(user.id, request, fromTrustedProxy(request, s.config.server.trustedProxies));
        return signedIn(request, user, "trusted_header");
      }
      const user = await passwordSignIn(deps, body.email, body.password, clientAddress(request, s.config.server.trustedProxies));
      // A user with a second factor gets an mfa_token instead of a session (POST /mfa/verify completes it).
      const challenge = await auth.secondFactor?.challenge(user, request, { method: "password", amr: ["pwd"] });
      if (challenge) return json(challenge.body, { cookies: [challenge.cookie] });
      return signedIn(request, user, "password");
    }, { body: SignInBody })

    .get("/signout", ({ request }) => signOut(request))
    .post("/signout", ({ request }) => signOut(request))

    .post("/signout/everywhere", async ({ request }) => {
      // Postgres holds the revocation record: this works (and is checked) while Redis is down.
      const p = await auth.current.resolve(request, { storeOptional: true });
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
