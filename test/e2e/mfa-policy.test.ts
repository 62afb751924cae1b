/**
 * GATEHOUSE_MFA=required_for_admins: an admin without a factor gets a session limited to
 * enrolment until they enrol; an admin's reset (API) and the `reset-mfa` CLI remove a user's
 * factors and end their sessions. Real HTTP, Postgres, Redis; the CLI as a real process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveFreshApp, signUpOk, type ServedApp } from "../helpers/served-app.ts";
import { redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { freshStep, totpAtStep } from "../helpers/totp.ts";
import { MfaKeys } from "../../src/mfa/mfa-keys.ts";
import { TotpRepo } from "../../src/db/repos/mfa-totp.ts";

const root = new URL("../..", import.meta.url).pathname;
const prefix = uniquePrefix("mfa_policy");
let s: ServedApp;

beforeAll(async () => {
  s = await serveFreshApp("mfa_policy", { ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_MFA: "required_for_admins", REDIS_KEY_PREFIX: prefix });
});
afterAll(async () => {
  await s?.close();
});

/** Runs the admin CLI against the test's database and store. */
async function cli(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "src/cli.ts", ...args], {
    cwd: root, stdout: "pipe", stderr: "pipe",
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", DATABASE_URL: s.dbUrl, REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: prefix, WEBUI_SECRET_KEY: "test-webui-secret-key", ...extra },
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, out, err };
}

const get = (path: string, token: string) => fetch(`${s.base}${path}`, { headers: { authorization: `Bearer ${token}` } });

async function enrolTotp(token: string): Promise<string> {
  const { secret } = (await (await s.post("/api/v1/auths/mfa/totp/enroll", {}, token)).json()) as { secret: string };
  const step = await freshStep();
  expect((await s.post("/api/v1/auths/mfa/totp/confirm", { code: totpAtStep(secret, step) }, token)).status).toBe(200);
  return secret;
}

describe("required_for_admins", () => {
  let admin: { token: string; id: string };

  test("an admin without a factor reaches only the enrolment routes; enrolling lifts the limit; users are not limited", async () => {
    admin = await signUpOk(s, "Admin", "admin@example.com", "admin-password-1");
    const user = await signUpOk(s, "User", "user@example.com", "user-password-1");
    expect((await get("/api/v1/auths/", admin.token)).status).toBe(200);
    expect((await get("/api/v1/auths/mfa", admin.token)).status).toBe(200);
    const limited = await get("/api/v1/auths/sessions", admin.token);
    expect(limited.status).toBe(403);
    expect(((await limited.json()) as { detail: string }).detail).toContain("/account/security");
    expect((await get("/api/v1/auths/sessions", user.token)).status).toBe(200);
    // The pages send a limited session to the security page instead of signing it out.
    const page = (path: string) => fetch(`${s.base}${path}`, { headers: { cookie: `token=${admin.token}` }, redirect: "manual" });
    const devices = await page("/account/sessions");
    expect({ status: devices.status, location: devices.headers.get("location") }).toEqual({ status: 303, location: "/account/security" });
    expect(devices.headers.getSetCookie()).toEqual([]);
    const security = await page("/account/security");
    expect(security.status).toBe(200);
    expect(await security.text()).toContain("requires a second factor");

    await enrolTotp(admin.token);
    expect((await page("/account/sessions")).status).toBe(200);
    expect((await get("/api/v1/auths/sessions", admin.token)).status).toBe(200);
  });

  test("an admin's reset removes the user's factors and ends the user's sessions", async () => {
    const signin = await s.post("/api/v1/auths/signin", { email: "user@example.com", password: "user-password-1" });
    const userToken = ((await signin.json()) as { token: string }).token;
    await enrolTotp(userToken);
    const userId = ((await (await get("/api/v1/auths/", userToken)).json()) as { id: string }).id;
    // Now a password alone is not enough ...
    expect(((await (await s.post("/api/v1/auths/signin", { email: "user@example.com", password: "user-password-1" })).json()) as { mfa_required?: boolean }).mfa_required).toBe(true);
    // ... the admin needs a full session (enrolled above): the reset revokes the user's sessions.
    const adminSignin = await s.post("/api/v1/auths/signin", { email: "admin@example.com", password: "admin-password-1" });
    expect(((await adminSignin.json()) as { mfa_required?: boolean }).mfa_required).toBe(true);
    expect((await s.post(`/api/v1/users/${userId}/mfa/reset`, {}, userToken)).status).toBe(401);
    expect((await s.post(`/api/v1/users/${userId}/mfa/reset`, {}, admin.token)).status).toBe(200);
    expect((await get("/api/v1/auths/", userToken)).status).toBe(401);
    const again = await s.post("/api/v1/auths/signin", { email: "user@example.com", password: "user-password-1" });
    expect(((await again.json()) as { token?: string }).token).toBeString();
    expect((await s.post("/api/v1/users/no-such-user/mfa/reset", {}, admin.token)).status).toBe(404);
  });

  test("reset-mfa (CLI) removes the admin's factors and ends their sessions", async () => {
    const { code, out, err } = await cli(["reset-mfa", "admin@example.com"]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    expect(out).toContain("removed the second factors of admin@example.com");
    expect((await get("/api/v1/auths/", admin.token)).status).toBe(401);
    // Signed in again with the password alone: the session is limited to enrolment again.
    const r = await s.post("/api/v1/auths/signin", { email: "admin@example.com", password: "admin-password-1" });
    const token = ((await r.json()) as { token: string }).token;
    expect(token).toBeString();
    expect((await get("/api/v1/auths/sessions", token)).status).toBe(403);
  });

  test("rotate-mfa-encryption-key re-encrypts TOTP secrets from the default key to a new one", async () => {
    const { token } = await signUpOk(s, "Rota", "rota@example.com", "rota-password-1");
    const secret = await enrolTotp(token);
    const keys = { GATEHOUSE_MFA_ENCRYPTION_KEY: "a-brand-new-mfa-passphrase", GATEHOUSE_MFA_PREVIOUS_ENCRYPTION_KEYS: "test-webui-secret-key" };
    const first = await cli(["rotate-mfa-encryption-key"], keys);
    expect({ code: first.code, err: first.err }).toEqual({ code: 0, err: "" });
    expect(first.out).toContain("re-encrypted 1,");
    const userId = ((await (await get("/api/v1/auths/", token)).json()) as { id: string }).id;
    const row = await new TotpRepo(s.app.services.pool).byUser(userId);
    expect(await new MfaKeys("a-brand-new-mfa-passphrase", "unrelated").open(row!.secret_enc)).toBe(secret);
    expect((await cli(["rotate-mfa-encryption-key"], keys)).out).toContain("re-encrypted 0, already under the new key 1,");
    expect((await cli(["rotate-mfa-encryption-key"], { GATEHOUSE_MFA_ENCRYPTION_KEY: "x-passphrase" })).code).toBe(2);
  });
});
