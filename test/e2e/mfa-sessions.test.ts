/**
 * Sessions say how they were made (issue 18 item 7): device sessions record `amr`, the
 * devices page shows it, forward auth answers `X-User-MFA`, asymmetric tokens carry `amr`
 * and HS256 tokens keep Open WebUI's four claims. Real HTTP, Postgres, Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { serveFreshApp, signUpOk, type ServedApp } from "../helpers/served-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { freshStep, totpAtStep } from "../helpers/totp.ts";

let hs: ServedApp;
let ed: ServedApp;
let th: ServedApp;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "gatehouse-mfa-sessions-"));
  [hs, ed, th] = await Promise.all([
    serveFreshApp("mfa_sessions_hs", { ENABLE_SIGNUP: "true" }),
    serveFreshApp("mfa_sessions_ed", { ENABLE_SIGNUP: "true", GATEHOUSE_JWT_ALG: "eddsa", GATEHOUSE_DATA_DIR: dataDir }),
    serveFreshApp("mfa_sessions_th", { WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email", GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1", GATEHOUSE_MFA: "required" }),
  ]);
});
afterAll(async () => {
  await Promise.all([hs?.close(), ed?.close(), th?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Signs up, enrols TOTP, and signs in with password + code; returns both tokens. */
async function signInWithTotp(s: ServedApp, email: string): Promise<{ passwordOnly: string; withCode: string }> {
  const password = "a-long-password-1";
  const { token: passwordOnly } = await signUpOk(s, "U", email, password);
  const { secret } = (await (await s.post("/api/v1/auths/mfa/totp/enroll", {}, passwordOnly)).json()) as { secret: string };
  const step = await freshStep();
  expect((await s.post("/api/v1/auths/mfa/totp/confirm", { code: totpAtStep(secret, step - 1) }, passwordOnly)).status).toBe(200);
  const ua = { "user-agent": "amr-test" };
  const first = await fetch(`${s.base}/api/v1/auths/signin`, postJson({ email, password }, ua));
  const { mfa_token } = (await first.json()) as { mfa_token: string };
  const cookie = first.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const done = await fetch(`${s.base}/api/v1/auths/mfa/verify`, postJson({ mfa_token, code: totpAtStep(secret, step) }, { ...ua, cookie }));
  expect(done.status).toBe(200);
  return { passwordOnly, withCode: ((await done.json()) as { token: string }).token };
}

const verifyHeaders = async (s: ServedApp, token: string) => (await fetch(`${s.base}/api/v1/auths/verify`, { headers: { authorization: `Bearer ${token}` } })).headers;

describe("sessions record their methods", () => {
  test("HS256: tokens keep exactly Open WebUI's claims; the device session and forward auth know the second factor", async () => {
    const t = await signInWithTotp(hs, "hs@example.com");
    expect(Object.keys(decodeJwt(t.withCode)).sort()).toEqual(["exp", "iat", "id", "jti"]);
    expect((await verifyHeaders(hs, t.passwordOnly)).get("x-user-mfa")).toBe("false");
    expect((await verifyHeaders(hs, t.withCode)).get("x-user-mfa")).toBe("true");
    const sessions = (await (await fetch(`${hs.base}/api/v1/auths/sessions`, { headers: { authorization: `Bearer ${t.withCode}` } })).json()) as Array<{ current: boolean; amr: string[] }>;
    expect(sessions.find((x) => x.current)?.amr).toEqual(["pwd", "otp"]);
    expect(sessions.find((x) => !x.current)?.amr).toEqual(["pwd"]);
    const page = await (await fetch(`${hs.base}/account/sessions`, { headers: { cookie: `token=${t.withCode}` } })).text();
    expect(page).toContain("password + authenticator code");
  });

  test("asymmetric tokens carry amr, also after renewal", async () => {
    const t = await signInWithTotp(ed, "ed@example.com");
    expect(decodeJwt(t.withCode).amr).toEqual(["pwd", "otp"]);
    expect(decodeJwt(t.passwordOnly).amr).toEqual(["pwd"]);
    expect((await verifyHeaders(ed, t.withCode)).get("x-user-mfa")).toBe("true");
    const jti = decodeJwt(t.withCode).jti as string;
    const renewed = await ed.app.instance.auth.issuer.renew((await ed.app.instance.auth.users.byEmail("ed@example.com"))!, jti);
    expect(decodeJwt(renewed.token).amr).toEqual(["pwd", "otp"]);
  });

  test("trusted-header sign-in never asks for a second factor (the proxy authenticated), even under GATEHOUSE_MFA=required", async () => {
    const header = { "x-forwarded-email": "proxied@example.com" };
    const signIn = async () => (await (await fetch(`${th.base}/api/v1/auths/signin`, postJson({ email: "", password: "" }, header))).json()) as { token?: string; mfa_required?: boolean };
    const first = await signIn();
    expect(first.token).toBeString();
    const auth = { ...header, authorization: `Bearer ${first.token}` };
    // Not limited to enrolment either, yet a factor can be set up.
    expect((await fetch(`${th.base}/api/v1/auths/sessions`, { headers: auth })).status).toBe(200);
    const { secret } = (await (await fetch(`${th.base}/api/v1/auths/mfa/totp/enroll`, postJson({}, auth))).json()) as { secret: string };
    const step = await freshStep();
    expect((await fetch(`${th.base}/api/v1/auths/mfa/totp/confirm`, postJson({ code: totpAtStep(secret, step) }, auth))).status).toBe(200);
    const again = await signIn();
    expect(again.mfa_required).toBeUndefined();
    expect(again.token).toBeString();
  });
});
