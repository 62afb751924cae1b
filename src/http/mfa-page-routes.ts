import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { Principal } from "../auth/current-user.ts";
import { ServiceError } from "../errors.ts";
import { issueAfterSecondStep } from "./second-step-sign-in.ts";
import type { SecondStepChallenge } from "../mfa/second-step.ts";
import type { MfaMethod } from "../mfa/mfa-service.ts";
import type { MfaModule } from "../mfa/mfa-module.ts";
import { assertSameOrigin } from "../pages/csrf.ts";
import { page, seeOther, type Flash } from "../pages/layout.ts";
import { mfaStepPageBody } from "../pages/mfa-step-page.ts";
import { securityPageBody, type SecurityPageModel } from "../pages/security-page.ts";
import { MFA_SCRIPT, MFA_SCRIPT_PATH, mfaScriptUrl } from "../pages/mfa-script.ts";

const NOTICES: Record<string, string> = {
  totp_removed: "The authenticator app is removed.",
  passkey_added: "Passkey added.",
  passkey_renamed: "Passkey renamed.",
  passkey_removed: "Passkey removed.",
};

/** The second-step page for a challenge (or again after a refused code, with `flash`). */
export function mfaStepPage(s: Pick<Services, "config">, request: Request, c: { mfaToken: string; methods: readonly MfaMethod[] }, flash: Flash | null = null, status = 200, cookies: readonly string[] = []): Response {
  return page({ title: "Two-step sign-in", flash, status, cookies, body: mfaStepPageBody(c), script: mfaScriptUrl(s.config.server.publicUrl, request) });
}

/** {@link mfaStepPage} for a fresh challenge: sets its nonce cookie (or the `cookies` given, which carry it). */
export function challengePage(s: Pick<Services, "config">, request: Request, c: SecondStepChallenge, cookies: readonly string[] = [c.cookie]): Response {
  return mfaStepPage(s, request, { mfaToken: c.body.mfa_token, methods: c.body.methods }, null, 200, cookies);
}

/**
 * `/account/security` (authenticator app, recovery codes, passkeys) with its form posts, the
 * second sign-in step's form post `/auth/mfa`, and the one script file the pages load.
 */
export function mfaPageRoutes(s: Services, auth: AuthModule, m: MfaModule) {
  const publicOrigin = s.config.server.publicUrl === null ? null : new URL(s.config.server.publicUrl).origin;
  const sameOrigin = (request: Request) => assertSameOrigin(request, publicOrigin);
  const form = async (request: Request) => new URLSearchParams(await request.text());
  /** The session user, or null (→ sign-in page); API keys do not manage factors. */
  const principal = async (request: Request): Promise<Principal | null> => {
    try {
      const p = await auth.current.verified(request);
      return p.via === "jwt" ? p : null;
    } catch (e) {
      if (e instanceof ServiceError && e.status >= 500) throw e;
      return null;
    }
  };
  const securityPage = async (request: Request, p: Principal, extra: Partial<SecurityPageModel> = {}, flash: Flash | null = null, status = 200) => {
    const notice = NOTICES[new URL(request.url).searchParams.get("notice") ?? ""];
    const model: SecurityPageModel = {
      user: p.user,
      factors: await m.mfa.factors(p.user),
      passkeys: m.passkeys ? await m.passkeys.list(p.user) : null,
      ...extra,
    };
    return page({
      title: "Security", status, body: securityPageBody(model),
      flash: flash ?? (notice ? { kind: "notice", text: notice } : null),
      script: m.passkeys ? mfaScriptUrl(s.config.server.publicUrl, request) : undefined,
    });
  };
  /** Runs a security-page form action; a refusal (4xx) re-renders the page with its reason. */
  const action = (run: (p: Principal, f: URLSearchParams, request: Request, params: Record<string, string>) => Promise<Response>) =>
    async ({ request, params }: { request: Request; params: Record<string, string> }) => {
      sameOrigin(request);
      const p = await principal(request);
      if (!p) return seeOther("/auth");
      try {
        return await run(p, await form(request), request, params);
      } catch (e) {
        if (!(e instanceof ServiceError) || e.status >= 500) throw e;
        return securityPage(request, p, {}, { kind: "error", text: e.message }, e.status);
      }
    };

  return new Elysia({ name: "gatehouse.mfa-pages" })
    .get(MFA_SCRIPT_PATH, () => new Response(MFA_SCRIPT, {
      headers: { "content-type": "text/javascript; charset=utf-8", "x-content-type-options": "nosniff", "cache-control": "public, max-age=300" },
    }))
    .get("/account/security", async ({ request }) => {
      const p = await principal(request);
      return p ? securityPage(request, p) : seeOther("/auth");
    })
    .post("/account/security/totp/enroll", action(async (p, _f, request) => {
      const e = await m.mfa.enrolTotp(p.user);
      return securityPage(request, p, { enrolment: { secret: e.secret, qrSvg: e.qr_svg } });
    }), { parse: "none" })
    .post("/account/security/totp/confirm", action(async (p, f, request) =>
      securityPage(request, p, { recoveryCodes: await m.mfa.confirmTotp(p.user, f.get("code") ?? "") }, { kind: "notice", text: "The authenticator app is on." })), { parse: "none" })
    .post("/account/security/totp/disable", action(async (p, f) => {
      const code = f.get("code") || undefined;
      await m.mfa.disableTotp(p.user, code !== undefined ? { code } : { password: f.get("password") ?? "" });
      return seeOther("/account/security?notice=totp_removed");
    }), { parse: "none" })
    .post("/account/security/recovery-codes", action(async (p, _f, request) =>
      securityPage(request, p, { recoveryCodes: await m.mfa.regenerateRecoveryCodes(p.user) })), { parse: "none" })
    .post("/account/security/passkeys/:id/rename", action(async (p, f, _r, params) => {
      if (!m.passkeys) return seeOther("/account/security");
      await m.passkeys.rename(p.user, params.id!, f.get("name") ?? "");
      return seeOther("/account/security?notice=passkey_renamed");
    }), { parse: "none" })
    .post("/account/security/passkeys/:id/delete", action(async (p, _f, _r, params) => {
      if (!m.passkeys) return seeOther("/account/security");
      await m.passkeys.delete(p.user, params.id!);
      return seeOther("/account/security?notice=passkey_removed");
    }), { parse: "none" })
    .post("/auth/mfa", async ({ request }) => {
      sameOrigin(request);
      const f = await form(request);
      const token = f.get("mfa_token") ?? "";
      const code = f.get("code");
      try {
        const done = await m.mfa.verify(token, request, code !== null ? { code } : { recovery_code: f.get("recovery_code") ?? "" });
        const user = await auth.users.byId(done.pending.userId);
        if (!user) return seeOther("/auth?notice=session_ended");
        const { cookies } = await issueAfterSecondStep(s, auth, request, user, done.pending, done.amr);
        return seeOther("/account/sessions", [...cookies, m.mfa.pending.clearCookie()]);
      } catch (e) {
        if (!(e instanceof ServiceError) || e.status >= 500) throw e;
        // A dead mfa_token cannot be retried: back to the start. A wrong code can.
        if (e.status === 401) return seeOther("/auth?notice=session_ended");
        const methods = await m.mfa.pending.peek(token, request).then((pd) => m.mfa.methodsOf(pd.userId), () => null);
        if (!methods) return seeOther("/auth?notice=session_ended");
        const headers = e.retryAfterSeconds !== undefined ? [["retry-after", String(e.retryAfterSeconds)] as [string, string]] : [];
        const res = mfaStepPage(s, request, { mfaToken: token, methods }, { kind: "error", text: e.message }, e.status);
        for (const [k, v] of headers) res.headers.set(k, v);
        return res;
      }
    }, { parse: "none" });
}
