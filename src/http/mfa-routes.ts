import { Elysia, t } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { Principal } from "../auth/current-user.ts";
import { ForbiddenError, NotFoundError } from "../auth/auth-errors.ts";
import { MESSAGES } from "../auth/messages.ts";
import { MfaError } from "../mfa/mfa-errors.ts";
import type { PendingSignIn } from "../mfa/pending-sign-in.ts";
import type { MfaModule } from "../mfa/mfa-module.ts";
import { json } from "./respond.ts";
import { sessionUserResponse } from "../auth/user-response.ts";
import { issueAfterSecondStep } from "./second-step-sign-in.ts";

const Code = t.String({ minLength: 1, maxLength: 64 });

/** The caller when signed in with a session: an API key cannot add or remove a second factor. */
export async function sessionPrincipal(auth: AuthModule, request: Request): Promise<Principal> {
  const p = await auth.current.verified(request);
  if (p.via !== "jwt") throw new ForbiddenError(MESSAGES.ACCESS_PROHIBITED, "ERR_SESSION_REQUIRED");
  return p;
}

/**
 * `/api/v1/auths/mfa/*`: TOTP enrolment, confirmation and removal, recovery codes, the
 * caller's factors, and the second sign-in step. Managing factors needs a session (an API
 * key cannot add or remove a second factor).
 */
export function mfaRoutes(s: Services, auth: AuthModule, m: MfaModule) {
  const { mfa, passkeys } = m;
  const sessionUser = (request: Request) => sessionPrincipal(auth, request);
  return new Elysia({ name: "gatehouse.mfa", prefix: "/api/v1/auths/mfa" })
    .get("", async ({ request }) => json(await mfa.factors((await sessionUser(request)).user)))
    .post("/totp/enroll", async ({ request }) => json(await mfa.enrolTotp((await sessionUser(request)).user)))
    .post("/totp/confirm", async ({ request, body }) => {
      const p = await sessionUser(request);
      return json({ recovery_codes: await mfa.confirmTotp(p.user, body.code) });
    }, { body: t.Object({ code: Code }) })
    .delete("/totp", async ({ request, body }) => {
      const p = await sessionUser(request);
      await mfa.disableTotp(p.user, { code: body.code, password: body.password });
      return json({ status: true });
    }, { body: t.Object({ code: t.Optional(Code), password: t.Optional(t.String({ maxLength: 4096 })) }) })
    .post("/recovery-codes", async ({ request }) => json({ recovery_codes: await mfa.regenerateRecoveryCodes((await sessionUser(request)).user) }))
    .post("/verify", async ({ request, body }) => {
      const given = [body.code, body.recovery_code, body.webauthn].filter((v) => v !== undefined).length;
      if (given !== 1) throw new MfaError("ERR_MFA_BAD_REQUEST");
      let done: { pending: PendingSignIn; amr: string };
      if (body.webauthn !== undefined) {
        if (!passkeys) throw new MfaError("ERR_PASSKEYS_DISABLED");
        const pending = await mfa.pending.peek(body.mfa_token, request);
        await passkeys.verifySecondFactor(pending, body.webauthn, request);
        await mfa.finish(body.mfa_token, pending);
        done = { pending, amr: "hwk" };
      } else {
        done = await mfa.verify(body.mfa_token, request, body.code !== undefined ? { code: body.code } : { recovery_code: body.recovery_code! });
      }
      const user = await auth.users.byId(done.pending.userId);
      if (!user) throw new MfaError("ERR_MFA_TOKEN_INVALID");
      const { issued, cookies } = await issueAfterSecondStep(s, auth, request, user, done.pending, done.amr);
      return json(sessionUserResponse(user, issued.token, issued.expiresAt), { cookies: [...cookies, mfa.pending.clearCookie()] });
    }, {
      body: t.Object({
        mfa_token: t.String({ minLength: 1, maxLength: 128 }),
        code: t.Optional(Code),
        recovery_code: t.Optional(Code),
        webauthn: t.Optional(t.Unknown()),
      }),
    });
}

/**
 * `POST /api/v1/users/{id}/mfa/reset` (admin): removes every second factor of the user and
 * signs them out everywhere through the admin revocation path (sessions and API keys).
 */
export function mfaAdminRoutes(auth: AuthModule, m: MfaModule) {
  return new Elysia({ name: "gatehouse.mfa-admin", prefix: "/api/v1/users" })
    .post("/:id/mfa/reset", async ({ params, request }) => {
      await auth.current.admin(request);
      const user = await auth.users.byId(params.id);
      if (!user) throw new NotFoundError(MESSAGES.USER_NOT_FOUND);
      await m.mfa.reset(user.id);
      await auth.revoker.revokeUser(user.id);
      return json({ status: true });
    });
}
