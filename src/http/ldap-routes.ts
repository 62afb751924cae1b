import { Elysia, t } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { LdapModule } from "../ldap/ldap-module.ts";
import { LdapDisabledError } from "../ldap/ldap-errors.ts";
import { sessionUserResponse } from "../auth/user-response.ts";
import { clientAddress } from "../net/client-address.ts";
import { json } from "./respond.ts";

// Bounds well above any real value: the sign-in itself refuses user values over 256 characters.
const LdapBody = t.Object({ user: t.String({ maxLength: 16_384 }), password: t.String({ maxLength: 4096 }) });

/** Open WebUI's `POST /api/v1/auths/ldap`: the same session, cookie and device record as a password sign-in. */
export function ldapRoutes(s: Pick<Services, "config">, auth: AuthModule, ldap: LdapModule | null) {
  return new Elysia({ name: "gatehouse.ldap", prefix: "/api/v1/auths" })
    .post("/ldap", async ({ body, request }) => {
      if (!ldap) throw new LdapDisabledError();
      const ip = clientAddress(request, s.config.server.trustedProxies);
      const { user } = await ldap.signIn(body.user, body.password, ip);
      // A user with a second factor gets an mfa_token instead of a session, as after a password.
      const challenge = await auth.secondFactor?.challenge(user, request, { method: "ldap", amr: ["ldap"] });
      if (challenge) return json(challenge.body, { cookies: [challenge.cookie] });
      const issued = await auth.issuer.issue(user, { method: "ldap", userAgent: request.headers.get("user-agent"), ip });
      return json(sessionUserResponse(user, issued.token, issued.expiresAt), { cookies: [issued.cookie] });
    }, { body: LdapBody });
}
