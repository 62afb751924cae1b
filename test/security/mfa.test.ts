/**
 * Attacks on the second sign-in step (issue 18), over real HTTP on real Postgres and Redis,
 * with two instances sharing both (B hands out mfa_tokens that live 2 s): password alone,
 * code replay on the other instance, mfa_token expired / reused / from another client /
 * as a bearer / for another user, recovery codes (once, also when raced), brute force.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveFreshApp, signUpOk, type ServedApp } from "../helpers/served-app.ts";
import { redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { serveBun, type RunningServer } from "../../src/runtime/bun.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { freshStep, totpAtStep } from "../helpers/totp.ts";

const MAX_ATTEMPTS = 5;
const UA = "mfa-attack-test/1.0";
let a: ServedApp;
let bApp: TestApp;
let bServer: RunningServer;
let bBase: string;

beforeAll(async () => {
  const prefix = uniquePrefix("sec_mfa");
  const env = { ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", REDIS_KEY_PREFIX: prefix, GATEHOUSE_MFA_MAX_ATTEMPTS: String(MAX_ATTEMPTS) };
  a = await serveFreshApp("sec_mfa", env);
  bApp = await startTestApp({ ...env, DATABASE_URL: a.dbUrl, REDIS_URL: await redisUrl(), GATEHOUSE_MFA_TOKEN_TTL_SECONDS: "2" });
  bServer = serveBun(bApp.fetch, { host: "127.0.0.1", port: 0, maxBodyBytes: 1_048_576 });
  bBase = `http://127.0.0.1:${bServer.port}`;
});

afterAll(async () => {
  await bServer?.stop(true);
  await bApp?.close();
  await a?.close();
});

/** A client: its User-Agent and the cookies it was given (the mfa nonce). */
interface Client {
  ua: string;
  cookie: string;
}

function call(base: string, path: string, init: { method?: string; body?: unknown; token?: string; client?: Client }): Promise<Response> {
  const headers: Record<string, string> = { "user-agent": init.client?.ua ?? UA };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.client?.cookie) headers.cookie = init.client.cookie;
  const req = init.body === undefined ? { method: init.method ?? "GET", headers } : { ...postJson(init.body, headers), method: init.method ?? "POST" };
  return fetch(`${base}${path}`, req);
}

let seq = 0;
/** A user with TOTP enrolled and confirmed (with the code of step S-1); returns the secret, recovery codes and S. */
async function totpUser(): Promise<{ email: string; password: string; secret: string; recovery: string[]; step: number; token: string }> {
  const email = `mfa${++seq}@example.com`;
  const password = `pw-${seq}-long-enough`;
  const { token } = await signUpOk(a, `U${seq}`, email, password);
  const enrol = await call(a.base, "/api/v1/auths/mfa/totp/enroll", { body: {}, token });
  expect(enrol.status).toBe(200);
  const { secret, otpauth_uri, qr_svg } = (await enrol.json()) as { secret: string; otpauth_uri: string; qr_svg: string };
  expect(otpauth_uri).toStartWith("otpauth://totp/");
  expect(qr_svg).toContain("<svg");
  const step = await freshStep();
  const confirm = await call(a.base, "/api/v1/auths/mfa/totp/confirm", { body: { code: totpAtStep(secret, step - 1) }, token });
  expect(confirm.status).toBe(200);
  const { recovery_codes } = (await confirm.json()) as { recovery_codes: string[] };
  expect(recovery_codes).toHaveLength(10);
  return { email, password, secret, recovery: recovery_codes, step, token };
}

/** Password sign-in on `base`; returns the answer, its body and the client that holds the nonce cookie. */
async function passwordStep(base: string, email: string, password: string, ua = UA) {
  const r = await call(base, "/api/v1/auths/signin", { body: { email, password }, client: { ua, cookie: "" } });
  const body = (await r.json()) as Record<string, unknown>;
  const cookies = r.headers.getSetCookie();
  const client: Client = { ua, cookie: cookies.map((c) => c.split(";")[0]).join("; ") };
  return { status: r.status, body, cookies, client, mfaToken: body.mfa_token as string };
}

function verify(base: string, client: Client, body: Record<string, unknown>): Promise<Response> {
  return call(base, "/api/v1/auths/mfa/verify", { body, client });
}

describe("the second step", () => {
  test("password alone never yields a session for a TOTP user", async () => {
    const u = await totpUser();
    const first = await passwordStep(a.base, u.email, u.password);
    console.log(`password-only sign-in of a TOTP user: ${first.status} ${JSON.stringify(Object.keys(first.body))}`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ mfa_required: true, methods: ["totp", "recovery_code"] });
    expect(first.body.token).toBeUndefined();
    expect(first.cookies.some((c) => c.startsWith("token="))).toBe(false);
    // The nonce cookie is HttpOnly.
    expect(first.cookies.find((c) => c.startsWith("gatehouse_mfa="))).toContain("HttpOnly");
    // ... and the mfa_token is not a session.
    expect((await call(a.base, "/api/v1/auths/", { token: first.mfaToken })).status).toBe(401);
    expect((await call(a.base, "/api/v1/auths/mfa", { token: first.mfaToken })).status).toBe(401);

    const done = await verify(a.base, first.client, { mfa_token: first.mfaToken, code: totpAtStep(u.secret, u.step) });
    expect(done.status).toBe(200);
    const session = (await done.json()) as { token: string; id: string };
    expect(done.headers.getSetCookie().some((c) => c.startsWith("token="))).toBe(true);
    expect((await call(a.base, "/api/v1/auths/", { token: session.token })).status).toBe(200);
  });

  test("a code used on instance A is refused on instance B (replay), and a reused mfa_token is refused", async () => {
    const u = await totpUser();
    const code = totpAtStep(u.secret, u.step);
    const onA = await passwordStep(a.base, u.email, u.password);
    const onB = await passwordStep(bBase, u.email, u.password);
    expect((await verify(a.base, onA.client, { mfa_token: onA.mfaToken, code })).status).toBe(200);
    const replay = await verify(bBase, onB.client, { mfa_token: onB.mfaToken, code });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { detail: string }).detail).toBeString();
    // The token that already completed a sign-in, with a fresh valid code: refused.
    const reused = await verify(a.base, onA.client, { mfa_token: onA.mfaToken, code: totpAtStep(u.secret, u.step + 1) });
    expect(reused.status).toBe(401);
  });

  test("an mfa_token from another client (other cookie, other User-Agent) or for another user is refused", async () => {
    const u = await totpUser();
    const v = await totpUser();
    const first = await passwordStep(a.base, u.email, u.password);
    const code = totpAtStep(u.secret, u.step);
    // The token without the nonce cookie, and with the cookie but another User-Agent.
    expect((await verify(a.base, { ua: UA, cookie: "" }, { mfa_token: first.mfaToken, code })).status).toBe(401);
    expect((await verify(a.base, { ua: "other-browser", cookie: first.client.cookie }, { mfa_token: first.mfaToken, code })).status).toBe(401);
    // Another user's valid code on this user's token: refused, no session.
    const wrongUser = await verify(a.base, first.client, { mfa_token: first.mfaToken, code: totpAtStep(v.secret, v.step) });
    expect(wrongUser.status).toBe(400);
    // The right client still completes it (the refusals did not burn the code).
    expect((await verify(a.base, first.client, { mfa_token: first.mfaToken, code })).status).toBe(200);
  });

  test("an expired mfa_token is refused (B's tokens live 2 s)", async () => {
    const u = await totpUser();
    const first = await passwordStep(bBase, u.email, u.password);
    expect(first.body.mfa_required).toBe(true);
    await Bun.sleep(2600);
    expect((await verify(bBase, first.client, { mfa_token: first.mfaToken, code: totpAtStep(u.secret, u.step) })).status).toBe(401);
  });

  test("a recovery code works once, never twice — also when two uses race", async () => {
    const u = await totpUser();
    const once = await passwordStep(a.base, u.email, u.password);
    expect((await verify(a.base, once.client, { mfa_token: once.mfaToken, recovery_code: u.recovery[0]!.toLowerCase() })).status).toBe(200);
    const twice = await passwordStep(a.base, u.email, u.password);
    expect((await verify(a.base, twice.client, { mfa_token: twice.mfaToken, recovery_code: u.recovery[0] })).status).toBe(400);
    // Two sign-ins racing with one unused code, one on each instance.
    const x = await passwordStep(a.base, u.email, u.password);
    const y = await passwordStep(bBase, u.email, u.password);
    const raced = await Promise.all([
      verify(a.base, x.client, { mfa_token: x.mfaToken, recovery_code: u.recovery[1] }),
      verify(bBase, y.client, { mfa_token: y.mfaToken, recovery_code: u.recovery[1] }),
    ]);
    expect(raced.map((r) => r.status).sort()).toEqual([200, 400]);
    const factors = (await (await call(a.base, "/api/v1/auths/mfa", { token: u.token })).json()) as { recovery_codes: { remaining: number } };
    expect(factors.recovery_codes.remaining).toBe(8);
  });

  test(`brute force: of 20 parallel guesses on two instances at most ${MAX_ATTEMPTS} are checked; then even the right code waits`, async () => {
    const u = await totpUser();
    const first = await passwordStep(a.base, u.email, u.password);
    const guesses = Array.from({ length: 20 }, (_, i) => String((i * 7919 + 13) % 1_000_000).padStart(6, "0"))
      .filter((g) => ![-1, 0, 1].some((d) => totpAtStep(u.secret, u.step + d) === g));
    const statuses = await Promise.all(guesses.map((g, i) => verify(i % 2 ? bBase : a.base, first.client, { mfa_token: first.mfaToken, code: g }).then((r) => r.status)));
    const checked = statuses.filter((s) => s === 400).length;
    expect(checked).toBe(MAX_ATTEMPTS);
    expect(statuses.filter((s) => s === 429).length).toBe(guesses.length - MAX_ATTEMPTS);
    const right = await verify(a.base, first.client, { mfa_token: first.mfaToken, code: totpAtStep(u.secret, u.step) });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  test("a user without a second factor signs in exactly as before", async () => {
    await signUpOk(a, "Plain", "plain@example.com", "plain-password-1");
    const r = await call(a.base, "/api/v1/auths/signin", { body: { email: "plain@example.com", password: "plain-password-1" } });
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(body.token).toBeString();
    expect(body.mfa_required).toBeUndefined();
  });

  test("malformed second-step requests get a clear 4xx, never a 500", async () => {
    const u = await totpUser();
    const first = await passwordStep(a.base, u.email, u.password);
    const bodies: unknown[] = [
      {}, { mfa_token: 5, code: "123456" }, { mfa_token: first.mfaToken }, { mfa_token: first.mfaToken, code: "123456", recovery_code: "AAAA-BBBB-CCCC" },
      { mfa_token: "x".repeat(5000), code: "123456" }, { mfa_token: first.mfaToken, code: "1".repeat(1000) }, { mfa_token: first.mfaToken, webauthn: { id: 1 } }, [],
    ];
    for (const body of bodies) {
      const r = await verify(a.base, first.client, body as Record<string, unknown>);
      expect({ body, status: r.status >= 400 && r.status < 500 }).toEqual({ body, status: true });
      expect(typeof ((await r.json()) as { detail?: unknown }).detail).toBe("string");
    }
    const notJson = await fetch(`${a.base}/api/v1/auths/mfa/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(notJson.status).toBeGreaterThanOrEqual(400);
    expect(notJson.status).toBeLessThan(500);
    // The sign-in still completes afterwards (one malformed proof counted at most a few attempts).
    expect((await verify(a.base, first.client, { mfa_token: first.mfaToken, recovery_code: u.recovery[0] })).status).toBe(200);
  });
});
