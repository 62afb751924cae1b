/**
 * The second step after LDAP and OAuth sign-ins (issue 18 item 4), against a real slapd, a real
 * OpenID provider, real Postgres and Redis: a directory password or a provider login alone never
 * yields a session for a user with TOTP; the step completes it with the first step's method and
 * `amr`, and after OAuth with the provider session (its token, its pruning, its sign-out).
 * Under `GATEHOUSE_MFA=required` a user without a factor gets the enrolment-limited session.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { CookieJar, postJson } from "../helpers/cookie-jar.ts";
import { freshStep, totpAtStep } from "../helpers/totp.ts";
import { startSlapd, LDAP_APP, LDAP_PEOPLE, LDAP_USERS, type SlapdHandle } from "../harness/slapd.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin } from "../fixtures/oidc-provider-browser.ts";

const CALLBACK = "http://gatehouse.test/oauth/oidc/login/callback";
const ORIGIN = "http://gatehouse.test";
let slapd: SlapdHandle;
let idp: OidcFixture;
let app: TestApp;
let strict: TestApp;

const env = async (name: string, extra: Record<string, string>): Promise<Record<string, string>> => ({
  DATABASE_URL: await freshDatabaseUrl(name),
  REDIS_URL: await redisUrl(),
  REDIS_KEY_PREFIX: uniquePrefix(name),
  DEFAULT_USER_ROLE: "user",
  ENABLE_LDAP: "true",
  LDAP_SERVER_HOST: "127.0.0.1",
  LDAP_SERVER_PORT: String(slapd.port),
  LDAP_USE_TLS: "false",
  LDAP_APP_DN: LDAP_APP.dn,
  LDAP_APP_PASSWORD: LDAP_APP.password,
  LDAP_SEARCH_BASE: LDAP_PEOPLE,
  OAUTH_CLIENT_ID: idp.clientId,
  OAUTH_CLIENT_SECRET: idp.clientSecret,
  OPENID_PROVIDER_URL: `${idp.issuer}/.well-known/openid-configuration`,
  OPENID_REDIRECT_URI: CALLBACK,
  ENABLE_OAUTH_SIGNUP: "true",
  GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "100000",
  ...extra,
});

beforeAll(async () => {
  [slapd, idp] = await Promise.all([
    startSlapd(),
    startOidcProvider({
      redirectUris: [CALLBACK],
      accounts: [
        { sub: "alice", email: "alice@example.com", name: "Alice" },
        { sub: "erin", email: "erin@example.com", name: "Erin" },
        { sub: "frank", email: "frank@example.com", name: "Frank" },
        { sub: "gina", email: "gina@example.com", name: "Gina" },
        { sub: "hana", email: "hana@example.com", name: "Hana" },
      ],
    }),
  ]);
  // At most 2 provider sessions per user: the pruning test needs few logins.
  app = await startTestApp(await env("mfa_other", { OAUTH_MAX_SESSIONS_PER_USER: "2" }));
  strict = await startTestApp(await env("mfa_other_req", { GATEHOUSE_MFA: "required" }));
});
afterAll(async () => {
  await Promise.all([app?.close(), strict?.close()]);
  await Promise.all([slapd?.stop(), idp?.stop()]);
});

const bearer = (token: string, init: RequestInit = {}) => ({ ...init, headers: { ...Object.fromEntries(new Headers(init.headers)), authorization: `Bearer ${token}` } });
const ldapJson = (a: TestApp, user: string, password: string, jar = new CookieJar()) =>
  a.request("/api/v1/auths/ldap", jar.with(postJson({ user, password }, { "user-agent": "ldap-client" })));
const sessionsOf = async (a: TestApp, init: RequestInit) =>
  (await (await a.request("/api/v1/auths/sessions", init)).json()) as Array<{ auth_method: string; amr: string[]; current: boolean }>;
const userIdOf = async (a: TestApp, init: RequestInit) => ((await (await a.request("/api/v1/auths/", init)).json()) as { id: string }).id;

/** Enrols and confirms TOTP for the session `token`; returns the secret, the step S (codes of S, S+1 are unused) and the recovery codes. */
async function enrolTotp(token: string): Promise<{ secret: string; step: number; recovery: string[] }> {
  const enrol = await app.request("/api/v1/auths/mfa/totp/enroll", bearer(token, postJson({})));
  expect(enrol.status).toBe(200);
  const { secret } = (await enrol.json()) as { secret: string };
  const step = await freshStep();
  const confirm = await app.request("/api/v1/auths/mfa/totp/confirm", bearer(token, postJson({ code: totpAtStep(secret, step - 1) })));
  expect(confirm.status).toBe(200);
  return { secret, step, recovery: ((await confirm.json()) as { recovery_codes: string[] }).recovery_codes };
}

/** A first OAuth login of `sub` (no factor yet: a session), then TOTP enrolled with it. */
async function oauthTotpUser(sub: string) {
  const first = await browserLogin(app.request, sub, { userAgent: `${sub}-enrol` });
  expect(first.response!.status).toBe(302);
  const token = first.jar.cookies.get("token")!;
  return { userId: await userIdOf(app, bearer(token)), ...(await enrolTotp(token)) };
}

/** The OIDC callback for a TOTP user: the second-step page, no session; returns the browser's jar and the page's mfa_token. */
async function oauthFirstStep(sub: string, userAgent: string) {
  const { jar, response } = await browserLogin(app.request, sub, { userAgent });
  const html = await response!.text();
  const cookies = response!.headers.getSetCookie();
  expect({ status: response!.status, type: response!.headers.get("content-type"), token: cookies.some((c) => c.startsWith("token=")) })
    .toEqual({ status: 200, type: "text/html; charset=utf-8", token: false });
  expect(html).toContain('action="/auth/mfa"');
  expect(cookies.some((c) => c.startsWith("oauth_session_id="))).toBe(true);
  const mfaToken = /name="mfa_token" value="([^"]+)"/.exec(html)![1]!;
  return { jar, mfaToken, html };
}

/** The JSON second step with the jar's nonce cookie and User-Agent. */
async function verifyJson(a: TestApp, jar: CookieJar, userAgent: string, body: Record<string, string>) {
  const r = await a.request("/api/v1/auths/mfa/verify", jar.with(postJson(body, { "user-agent": userAgent })));
  jar.take(r);
  return r;
}

describe("LDAP", () => {
  test("JSON: the directory password alone gives mfa_required and no session; the code completes it as ldap + otp", async () => {
    const enrolled = (await (await ldapJson(app, "ada", LDAP_USERS.ada.password)).json()) as { token: string; id: string };
    const { secret, step } = await enrolTotp(enrolled.token);
    const before = (await app.instance.auth.sessions.listLive(enrolled.id)).length;

    const jar = new CookieJar();
    const r = await ldapJson(app, "ada", LDAP_USERS.ada.password, jar);
    const body = (await r.json()) as Record<string, unknown>;
    const cookies = jar.take(r);
    console.log(`LDAP sign-in of a TOTP user: ${r.status} ${JSON.stringify(Object.keys(body))} cookies=${JSON.stringify(cookies.map((c) => c.split("=")[0]))}`);
    expect(r.status).toBe(200);
    expect(body).toMatchObject({ mfa_required: true, methods: ["totp", "recovery_code"] });
    expect(body.token).toBeUndefined();
    expect(cookies.some((c) => c.startsWith("token="))).toBe(false);
    expect((await app.instance.auth.sessions.listLive(enrolled.id)).length).toBe(before);
    expect((await app.request("/api/v1/auths/", bearer(body.mfa_token as string))).status).toBe(401);

    const done = await verifyJson(app, jar, "ldap-client", { mfa_token: body.mfa_token as string, code: totpAtStep(secret, step) });
    expect(done.status).toBe(200);
    const session = (await done.json()) as { token: string; email: string };
    expect(session.email).toBe("ada@example.test");
    expect(jar.cookies.get("token")).toBe(session.token);
    const current = (await sessionsOf(app, bearer(session.token))).find((x) => x.current);
    expect({ method: current?.auth_method, amr: current?.amr }).toEqual({ method: "ldap", amr: ["ldap", "otp"] });
  });

  test("the /auth/ldap form renders the second step; its form post completes the sign-in", async () => {
    const enrolled = (await (await ldapJson(app, "bob", LDAP_USERS.bob.password)).json()) as { token: string };
    const { secret, step } = await enrolTotp(enrolled.token);
    const jar = new CookieJar();
    const form = (path: string, fields: Record<string, string>) => app.request(path, jar.with({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "user-agent": "ldap-browser" },
      body: new URLSearchParams(fields).toString(),
    }));
    const first = await form("/auth/ldap", { user: "bob", password: LDAP_USERS.bob.password });
    const cookies = jar.take(first);
    const html = await first.text();
    expect({ status: first.status, token: cookies.some((c) => c.startsWith("token=")) }).toEqual({ status: 200, token: false });
    const mfaToken = /name="mfa_token" value="([^"]+)"/.exec(html)![1]!;
    const done = await form("/auth/mfa", { mfa_token: mfaToken, code: totpAtStep(secret, step) });
    jar.take(done);
    expect(done.status).toBe(303);
    const current = (await sessionsOf(app, jar.with())).find((x) => x.current);
    expect({ method: current?.auth_method, amr: current?.amr }).toEqual({ method: "ldap", amr: ["ldap", "otp"] });
  });
});

describe("OIDC", () => {
  test("the callback answers the second-step page; its form post signs in with the provider session linked; sign-out deletes it", async () => {
    const alice = await oauthTotpUser("alice");
    const { jar, mfaToken } = await oauthFirstStep("alice", "alice-browser");
    const sessionId = jar.cookies.get("oauth_session_id")!;
    // No session until the step is done: the provider session's cookie alone is nothing (Open WebUI's answer without a token).
    const early = await app.request("/api/v1/auths/oauth/token", jar.with());
    expect({ status: early.status, body: await early.json() }).toEqual({ status: 403, body: { detail: "Not authenticated" } });

    const done = await app.request("/auth/mfa", jar.with({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "user-agent": "alice-browser" },
      body: new URLSearchParams({ mfa_token: mfaToken, code: totpAtStep(alice.secret, alice.step) }).toString(),
    }));
    const set = jar.take(done);
    expect(done.status).toBe(303);
    expect(set.find((c) => c.startsWith("oauth_session_id="))).toContain("Max-Age=");
    const current = (await sessionsOf(app, jar.with())).find((x) => x.current);
    expect({ method: current?.auth_method, amr: current?.amr }).toEqual({ method: "oauth", amr: ["oauth", "otp"] });
    const devices = await app.instance.auth.sessions.listLive(alice.userId);
    expect(devices.find((d) => d.auth_method === "oauth" && d.amr === "oauth,otp")?.oauth_session_id).toBe(sessionId);

    const t = await app.request("/api/v1/auths/oauth/token", jar.with());
    expect(t.status).toBe(200);
    expect(((await t.json()) as { provider: string; access_token: string })).toMatchObject({ provider: "oidc", access_token: expect.any(String) });

    const out = await app.request("/api/v1/auths/signout", jar.with());
    expect(out.status).toBe(200);
    expect(await app.instance.oauth.sessions.repo.byId(sessionId)).toBeNull();
  });

  test("JSON verify with the page's mfa_token signs in; /api/v1/auths/oauth/token answers the provider token", async () => {
    const erin = await oauthTotpUser("erin");
    const { jar, mfaToken } = await oauthFirstStep("erin", "erin-browser");
    const done = await verifyJson(app, jar, "erin-browser", { mfa_token: mfaToken, code: totpAtStep(erin.secret, erin.step) });
    expect(done.status).toBe(200);
    const t = await app.request("/api/v1/auths/oauth/token", jar.with());
    console.log(`oauth token after the second step: ${t.status}`);
    expect(t.status).toBe(200);
    const row = await app.instance.oauth.sessions.open(jar.cookies.get("oauth_session_id")!, erin.userId);
    expect(await t.json()).toEqual({ provider: "oidc", access_token: row!.dict.access_token, expires_at: row!.dict.expires_at });
  });

  test("OAUTH_MAX_SESSIONS_PER_USER pruning revokes a device signed in through the second step", async () => {
    const frank = await oauthTotpUser("frank");
    const devices: CookieJar[] = [];
    for (let i = 0; i < 3; i++) {
      const ua = `frank-device-${i}`;
      const { jar, mfaToken } = await oauthFirstStep("frank", ua);
      expect((await verifyJson(app, jar, ua, { mfa_token: mfaToken, recovery_code: frank.recovery[i]! })).status).toBe(200);
      devices.push(jar);
    }
    // Limit 2: the 3rd login pruned the 1st device's provider session — and so its Gatehouse session.
    const statuses = await Promise.all(devices.map(async (jar) => (await app.request("/api/v1/auths/", jar.with())).status));
    console.log(`after 3 second-step logins with the limit at 2: ${JSON.stringify(statuses)}`);
    expect(statuses).toEqual([401, 200, 200]);
  });

  test("provider logins that never pass the second step store no provider session and prune no device", async () => {
    const hana = await oauthTotpUser("hana");
    const victim = await oauthFirstStep("hana", "hana-laptop");
    expect((await verifyJson(app, victim.jar, "hana-laptop", { mfa_token: victim.mfaToken, recovery_code: hana.recovery[0]! })).status).toBe(200);
    // Someone with the provider password but not the second factor, twice (the limit is 2).
    const attempts = [await oauthFirstStep("hana", "intruder"), await oauthFirstStep("hana", "intruder")];
    const rows = (await app.instance.oauth.sessions.repo.listForUser(hana.userId, "oidc")).map((r) => r.id);
    const victimStatus = (await app.request("/api/v1/auths/", victim.jar.with())).status;
    console.log(`victim after 2 unfinished provider logins (limit 2): ${victimStatus}, rows of unfinished logins stored: ${attempts.filter((a) => rows.includes(a.jar.cookies.get("oauth_session_id")!)).length}`);
    expect(victimStatus).toBe(200);
    expect(rows).toContain(victim.jar.cookies.get("oauth_session_id")!);
    for (const a of attempts) expect(rows).not.toContain(a.jar.cookies.get("oauth_session_id")!);
  });
});

describe("GATEHOUSE_MFA=required, a user without a factor", () => {
  test("LDAP and OIDC sign-ins give a session limited to enrolment", async () => {
    const r = await ldapJson(strict, "ada", LDAP_USERS.ada.password);
    expect(r.status).toBe(200);
    const ldapToken = ((await r.json()) as { token: string }).token;
    expect(ldapToken).toBeString();

    const { jar, response } = await browserLogin(strict.request, "gina", { userAgent: "gina-browser" });
    expect(response!.status).toBe(302);
    for (const init of [bearer(ldapToken), jar.with()]) {
      expect((await strict.request("/api/v1/auths/", init)).status).toBe(200);
      expect((await strict.request("/api/v1/auths/mfa", init)).status).toBe(200);
      const limited = await strict.request("/api/v1/auths/sessions", init);
      expect(limited.status).toBe(403);
      expect(((await limited.json()) as { detail: string }).detail).toContain("/account/security");
    }
  });
});
