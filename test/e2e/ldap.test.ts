/**
 * LDAP sign-in against a real slapd: Open WebUI's route and answer, find-or-create by email,
 * an Active Directory-style configuration over StartTLS, metrics and audit lines, the rate
 * limit under a burst of concurrent wrong passwords, and a directory that stops or hangs
 * mid-test (503 + Retry-After within the timeout, then recovery without a restart).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { CookieJar, postJson } from "../helpers/cookie-jar.ts";
import { sample } from "../helpers/metrics-text.ts";
import { startSlapd, CAROL_AD, LDAP_APP, LDAP_BASE, LDAP_PEOPLE, LDAP_USERS, type SlapdHandle } from "../harness/slapd.ts";
import { LDAP_AUTH_FAILED } from "../../src/ldap/ldap-errors.ts";

const TIMEOUT_MS = 1500;
let slapd: SlapdHandle;
let app: TestApp;
const { ada, bob, carol } = LDAP_USERS;

const baseEnv = (s: SlapdHandle): Record<string, string> => ({
  ENABLE_LDAP: "true",
  LDAP_SERVER_HOST: "127.0.0.1",
  LDAP_SERVER_PORT: String(s.port),
  LDAP_USE_TLS: "false",
  LDAP_APP_DN: LDAP_APP.dn,
  LDAP_APP_PASSWORD: LDAP_APP.password,
  LDAP_SEARCH_BASE: LDAP_PEOPLE,
});

beforeAll(async () => {
  slapd = await startSlapd();
  app = await startTestApp({
    DATABASE_URL: await freshDatabaseUrl("ldap"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("ldap"),
    DEFAULT_USER_ROLE: "user",
    ...baseEnv(slapd),
    LDAP_SERVER_LABEL: "Example Corp <Directory>",
    GATEHOUSE_LDAP_TIMEOUT_MS: String(TIMEOUT_MS),
    GATEHOUSE_LDAP_CONNECT_TIMEOUT_MS: "500",
    GATEHOUSE_LDAP_MAX_CONCURRENCY: "4",
    // Every in-process request comes from the same "unknown" address: only the per-user limit is under test here.
    GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "100000",
  });
});
afterAll(async () => {
  await app?.close();
  await slapd?.stop();
});

const ldap = (user: string, password: string) => app.request("/api/v1/auths/ldap", postJson({ user, password }));
const metrics = async () => (await app.request("/metrics")).text();

describe("sign-in", () => {
  test("the first LDAP user becomes admin: Open WebUI's SessionUserResponse, token cookie and an `ldap` device session", async () => {
    const r = await ldap("ADA", ada.password);
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["email", "expires_at", "id", "name", "permissions", "profile_image_url", "role", "token", "token_type"]);
    expect(body).toMatchObject({ token_type: "Bearer", email: "ada@example.test", name: "Ada Lovelace", role: "admin" });
    const jar = new CookieJar();
    const [cookie] = jar.take(r);
    expect(cookie).toContain(`token=${body["token"]}`);
    expect(cookie).toContain("HttpOnly");
    const me = await app.request("/api/v1/auths/", jar.with());
    expect(((await me.json()) as { email: string }).email).toBe("ada@example.test");
    const sessions = (await (await app.request("/api/v1/auths/sessions", jar.with())).json()) as Array<{ auth_method: string; current: boolean }>;
    expect(sessions.find((x) => x.current)?.auth_method).toBe("ldap");
  });

  test("the same person again: the same user (found by email), a new session", async () => {
    const first = (await (await ldap("ada", ada.password)).json()) as { id: string; token: string };
    const again = (await (await ldap("ada", ada.password)).json()) as { id: string; token: string };
    expect(again.id).toBe(first.id);
    expect(again.token).not.toBe(first.token);
  });

  test("a later user gets DEFAULT_USER_ROLE", async () => {
    const r = await ldap("bob", bob.password);
    expect(await r.json()).toMatchObject({ email: "bob@example.test", role: "user" });
  });

  test("wrong password and unknown user: the same 400 `LDAP authentication failed.`, no cookie", async () => {
    for (const [user, password] of [["ada", "wrong"], ["nobody", "wrong"], ["ada", ""]] as const) {
      const r = await ldap(user, password);
      expect({ user, status: r.status, body: await r.json() }).toEqual({ user, status: 400, body: { detail: LDAP_AUTH_FAILED } });
      expect(r.headers.getSetCookie()).toEqual([]);
    }
  });

  test("audit lines carry method ldap and no password; metrics count operations and latency", async () => {
    const lines = app.logText().split("\n").filter((l) => l.includes('"audit":"signin"'));
    expect(lines.some((l) => l.includes('"method":"ldap"') && l.includes('"outcome":"success"'))).toBe(true);
    expect(lines.some((l) => l.includes('"method":"ldap"') && l.includes('"reason":"password"'))).toBe(true);
    expect(lines.some((l) => l.includes('"method":"ldap"') && l.includes('"reason":"unknown_user"'))).toBe(true);
    expect(app.logText()).not.toContain(ada.password);
    const text = await metrics();
    expect(sample(text, "gatehouse_ldap_operations_total", { op: "bind_user", outcome: "ok" })).toBeGreaterThanOrEqual(3);
    expect(sample(text, "gatehouse_ldap_operations_total", { op: "bind_user", outcome: "refused" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "gatehouse_ldap_operations_total", { op: "search", outcome: "refused" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "gatehouse_ldap_operation_duration_seconds_count", { op: "bind_app" })).toBeGreaterThanOrEqual(5);
  });

  test("/auth shows the LDAP form under LDAP_SERVER_LABEL (escaped); its post is refused cross-site and works same-origin", async () => {
    const html = await (await app.request("/auth")).text();
    expect(html).toContain('action="/auth/ldap"');
    expect(html).toContain("Example Corp &lt;Directory&gt;");
    const form = (headers: Record<string, string>) => app.request("/auth/ldap", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ user: "bob", password: bob.password }).toString(),
    });
    const cross = await form({ origin: "https://evil.example", "sec-fetch-site": "cross-site" });
    expect(cross.status).toBe(403);
    expect(cross.headers.getSetCookie()).toEqual([]);
    const same = await form({ "sec-fetch-site": "same-origin" });
    expect(same.status).toBe(303);
    expect(same.headers.get("location")).toBe("/account/sessions");
    expect(same.headers.getSetCookie().some((c) => c.startsWith("token="))).toBe(true);
    const wrong = await app.request("/auth/ldap", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
      body: new URLSearchParams({ user: "bob", password: "nope" }).toString(),
    });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain(LDAP_AUTH_FAILED);
  });
});

describe("Active Directory-style attributes over StartTLS", () => {
  let ad: TestApp;
  beforeAll(async () => {
    ad = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("ldapad"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("ldapad"),
      ...baseEnv(slapd),
      LDAP_SERVER_HOST: "localhost",
      GATEHOUSE_LDAP_STARTTLS: "true",
      LDAP_CA_CERT_FILE: slapd.caFile,
      LDAP_SEARCH_BASE: LDAP_BASE,
      LDAP_SEARCH_FILTER: "(objectClass=gatehouseAdUser)",
      LDAP_ATTRIBUTE_FOR_USERNAME: "sAMAccountName",
      LDAP_ATTRIBUTE_FOR_MAIL: "userPrincipalName",
      GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "4",
    });
  });
  afterAll(async () => {
    await ad?.close();
  });

  test("sAMAccountName signs in; the userPrincipalName is the email; a uid-only account is not found", async () => {
    const r = await ad.request("/api/v1/auths/ldap", postJson({ user: CAROL_AD.sAMAccountName.toUpperCase(), password: carol.password }));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ email: CAROL_AD.userPrincipalName, name: "Carol Shaw", role: "admin" });
    const other = await ad.request("/api/v1/auths/ldap", postJson({ user: "ada", password: ada.password }));
    expect(other.status).toBe(400);
    expect(sample(await (await ad.request("/metrics")).text(), "gatehouse_ldap_operations_total", { op: "starttls", outcome: "ok" })).toBe(2);
  });

  test("per-IP limit: failures spread over many user values still block the address, for every user", async () => {
    for (const user of ["u1", "u2", "u3"]) expect((await ad.request("/api/v1/auths/ldap", postJson({ user, password: "x" }))).status).toBe(400);
    const blocked = await ad.request("/api/v1/auths/ldap", postJson({ user: CAROL_AD.sAMAccountName, password: carol.password }));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(ad.logText()).toContain('"outcome":"rate_limited"');
  });
});

describe("protections", () => {
  test("40 concurrent wrong passwords for one user: 400s then 429s, never more than 4 directory exchanges at once; then even the right password waits", async () => {
    const before = sample(await metrics(), "gatehouse_ldap_operations_total", { op: "bind_user", outcome: "refused" }) ?? 0;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, app.instance.ldap!.directory.load.held)), 1);
    const statuses = await Promise.all(Array.from({ length: 40 }, () => ldap("carol-not-here", "wrong").then((r) => r.status)))
      .finally(() => clearInterval(sampler));
    expect(statuses.every((s) => s === 400 || s === 429)).toBe(true);
    expect(peak).toBeLessThanOrEqual(4);
    const limited = await ldap("carol-not-here", "anything");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);

    const burst = await Promise.all(Array.from({ length: 40 }, () => ldap("bob", "wrong").then((r) => r.status)));
    expect(burst.every((s) => s === 400 || s === 429)).toBe(true);
    const right = await ldap("bob", bob.password);
    expect(right.status).toBe(429);
    const reached = (sample(await metrics(), "gatehouse_ldap_operations_total", { op: "bind_user", outcome: "refused" }) ?? 0) - before;
    // Consumed before the directory is asked: a simultaneous burst is bounded by the per-user limit (15).
    console.log(`ldap rate limit: ${burst.filter((s) => s === 400).length}/40 answered 400, ${reached} wrong-password binds reached the directory`);
    expect(reached).toBeLessThanOrEqual(15);
    expect(burst.filter((s) => s === 400).length).toBeLessThanOrEqual(15);
  });

  test("no database connection is held while the directory hangs; 503 + Retry-After within the timeout; recovery after it answers again", async () => {
    slapd.pause();
    try {
      const started = performance.now();
      const pending = ldap("ada", ada.password);
      await Bun.sleep(300);
      expect(app.services.pool.stats().active).toBe(0);
      expect(app.instance.ldap!.directory.load.held).toBe(1);
      const r = await pending;
      const elapsed = performance.now() - started;
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("5");
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 2000);
    } finally {
      slapd.resume();
    }
    expect((await ldap("ada", ada.password)).status).toBe(200);
    expect(app.instance.ldap!.directory.load.held).toBe(0);
  });

  test("directory stopped mid-test: 503 + Retry-After at once, then sign-in works again after it restarts (no Gatehouse restart)", async () => {
    await slapd.down();
    try {
      const started = performance.now();
      const r = await ldap("ada", ada.password);
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("5");
      expect(await r.json()).toEqual({ detail: expect.stringContaining("unavailable") });
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 2000);
    } finally {
      await slapd.up();
    }
    expect((await ldap("ada", ada.password)).status).toBe(200);
    const text = await metrics();
    expect(sample(text, "gatehouse_ldap_operations_total", { op: "bind_app", outcome: "unreachable" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "gatehouse_ldap_operations_total", { op: "bind_app", outcome: "timeout" })).toBeGreaterThanOrEqual(1);
  });
});

describe("with ENABLE_LDAP off", () => {
  test("no LDAP form on /auth; the route and the form post answer Open WebUI's 400 `LDAP authentication is not enabled`", async () => {
    const off = await startTestApp({ DATABASE_URL: await freshDatabaseUrl("ldapoff"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("ldapoff") });
    try {
      expect(await (await off.request("/auth")).text()).not.toContain('action="/auth/ldap"');
      const r = await off.request("/api/v1/auths/ldap", postJson({ user: "ada", password: ada.password }));
      expect({ status: r.status, body: await r.json() }).toEqual({ status: 400, body: { detail: "LDAP authentication is not enabled" } });
      const form = await off.request("/auth/ldap", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
        body: new URLSearchParams({ user: "ada", password: ada.password }).toString(),
      });
      expect(form.status).toBe(400);
      expect(await form.text()).toContain("LDAP authentication is not enabled");
      // The metric families exist anyway, for dashboards and alerts.
      expect(await (await off.request("/metrics")).text()).toContain("# TYPE gatehouse_ldap_operations_total counter");
    } finally {
      await off.close();
    }
  });
});
