import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { MESSAGES } from "../../src/auth/messages.ts";
import { recordPeerAddress } from "../../src/net/client-address.ts";

describe("sign-in rate limiting", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("ratelimit"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("ratelimit"),
      GATEHOUSE_SIGNIN_RATE_LIMIT_PER_EMAIL: "3",
      GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "100",
      // Long enough for four refusals (each padded by the failure floor) on a loaded machine.
      GATEHOUSE_SIGNIN_RATE_LIMIT_WINDOW_SECONDS: "5",
    });
    await app.request("/api/v1/auths/signup", postJson({ name: "R", email: "r@example.com", password: "right" }));
  });
  afterAll(async () => {
    await app.close();
  });
  const attempt = (password: string, email = "r@example.com") => app.request("/api/v1/auths/signin", postJson({ email, password }));

  test("successful sign-ins do not count", async () => {
    for (let i = 0; i < 5; i++) expect((await attempt("right")).status).toBe(200);
  });

  test("limit failures answer 400; limit+1 answers 429 with Retry-After; the window resets it", async () => {
    for (let i = 0; i < 3; i++) expect((await attempt("wrong")).status).toBe(400);
    const limited = await attempt("wrong");
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ detail: MESSAGES.RATE_LIMIT_EXCEEDED });
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(5);
    // Even the right password is refused while blocked, and the email is matched case-insensitively.
    expect((await attempt("right", "R@Example.COM")).status).toBe(429);
    await Bun.sleep(retryAfter * 1000 + 200);
    expect((await attempt("right")).status).toBe(200);
  });

  test("the counter lives in Redis under the store prefix", async () => {
    await attempt("wrong", "counted@example.com");
    const raw = await app.services.store.get("ratelimit:signin:email:counted@example.com");
    expect(Number(raw)).toBe(1);
  });
});

describe("trusted header sign-in", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("trusted"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("trusted"),
      WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email",
      WEBUI_AUTH_TRUSTED_NAME_HEADER: "X-Forwarded-User",
      GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1",
    });
  });
  afterAll(async () => {
    await app.close();
  });
  /** In process there is no socket: these requests come "from" the trusted proxy (test/security covers real peers). */
  const viaProxy = (path: string, init: RequestInit) => {
    const request = new Request(`http://gatehouse.test${path}`, init);
    recordPeerAddress(request, "127.0.0.1");
    return Promise.resolve(app.fetch(request));
  };
  const signin = (headers: Record<string, string>) => viaProxy("/api/v1/auths/signin", postJson({ email: "", password: "" }, headers));

  test("without the header → 400 INVALID_TRUSTED_HEADER", async () => {
    const r = await signin({});
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ detail: MESSAGES.INVALID_TRUSTED_HEADER });
  });

  test("the header signs in, creating the user (first one becomes admin)", async () => {
    const r = await signin({ "x-forwarded-email": "Tess@Example.com", "x-forwarded-user": "Tess" });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ email: "tess@example.com", name: "Tess", role: "admin" });
    const again = await signin({ "x-forwarded-email": "tess@example.com" });
    expect(again.status).toBe(200);
  });

  test("a token whose user differs from the header → 401 and cookie deletions in the same response", async () => {
    const r = await signin({ "x-forwarded-email": "tess@example.com" });
    const token = ((await r.json()) as { token: string }).token;
    const ok = await viaProxy("/api/v1/auths/", { headers: { authorization: `Bearer ${token}`, "x-forwarded-email": "tess@example.com" } });
    expect(ok.status).toBe(200);
    const mismatch = await viaProxy("/api/v1/auths/", { headers: { cookie: `token=${token}`, "x-forwarded-email": "mallory@example.com" } });
    expect(mismatch.status).toBe(401);
    expect(await mismatch.json()).toEqual({ detail: MESSAGES.USER_MISMATCH });
    const cleared = mismatch.headers.getSetCookie();
    for (const name of ["token", "oauth_session_id", "oauth_id_token"]) {
      const c = cleared.find((x) => x.startsWith(`${name}=`));
      expect(c).toBeDefined();
      expect(c).toContain("Max-Age=0");
      expect(c).toContain("SameSite=Lax");
    }
  });
});

describe("forward auth", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ DATABASE_URL: await freshDatabaseUrl("fwd"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("fwd") });
  });
  afterAll(async () => {
    await app.close();
  });

  test("200 with user headers for a valid session, 401 otherwise, and no writes", async () => {
    const r = await app.request("/api/v1/auths/signup", postJson({ name: "Fay Ü", email: "fay@example.com", password: "pw" }));
    const token = ((await r.json()) as { token: string }).token;
    const ok = await app.request("/api/v1/auths/verify", { headers: { cookie: `token=${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-user-email")).toBe("fay@example.com");
    expect(ok.headers.get("x-user-role")).toBe("admin");
    expect(decodeURIComponent(ok.headers.get("x-user-name")!)).toBe("Fay Ü");
    expect(ok.headers.get("x-auth-request-email")).toBe("fay@example.com");
    expect(ok.headers.get("x-user-id")).toMatch(/^[0-9a-f-]{36}$/);
    const no = await app.request("/api/v1/auths/verify");
    expect(no.status).toBe(401);
    const bad = await app.request("/api/v1/auths/verify", { headers: { authorization: "Bearer x.y.z" } });
    expect(bad.status).toBe(401);
    // Verified requests are served from caches: no checkout at all.
    const again = await app.request("/api/v1/auths/verify", { headers: { cookie: `token=${token}` } });
    expect(again.headers.get("server-timing")).toBe("db;dur=0.00");
  });
});
