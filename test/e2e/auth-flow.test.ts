import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { CookieJar, postJson } from "../helpers/cookie-jar.ts";
import { MESSAGES } from "../../src/auth/messages.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    DATABASE_URL: await freshDatabaseUrl("authflow"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("authflow"),
  });
});
afterAll(async () => {
  await app.close();
});

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe("sign-up → sign-in → session → sign-out → refused", () => {
  const jar = new CookieJar();
  let adminToken = "";

  test("the first user signs up and becomes admin, with an HttpOnly token cookie", async () => {
    const r = await app.request("/api/v1/auths/signup", postJson({ name: "Ada", email: "Ada@Example.com", password: "correct horse" }));
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", email: "ada@example.com", name: "Ada", role: "admin" });
    expect(Object.keys(body).sort()).toEqual(["email", "expires_at", "id", "name", "permissions", "profile_image_url", "role", "token", "token_type"]);
    const [cookie] = jar.take(r);
    expect(cookie).toContain(`token=${body["token"]}`);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/");
    expect(cookie).toMatch(/Max-Age=24192\d\d/);
    expect(cookie).toContain("Expires=");
    adminToken = body["token"] as string;
  });

  test("sign-up is then closed (ENABLE_SIGNUP unset)", async () => {
    const r = await app.request("/api/v1/auths/signup", postJson({ name: "Bob", email: "bob@example.com", password: "pw" }));
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({ detail: MESSAGES.ACCESS_PROHIBITED });
  });

  test("wrong password → 400 INVALID_CRED; right one → a new session", async () => {
    const bad = await app.request("/api/v1/auths/signin", postJson({ email: "ada@example.com", password: "nope" }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ detail: MESSAGES.INVALID_CRED });
    const unknown = await app.request("/api/v1/auths/signin", postJson({ email: "nobody@example.com", password: "nope" }));
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ detail: MESSAGES.INVALID_CRED });
    const ok = await app.request("/api/v1/auths/signin", postJson({ email: "ADA@example.com", password: "correct horse" }));
    expect(ok.status).toBe(200);
    jar.take(ok);
    expect(jar.cookies.get("token")).not.toBe(adminToken);
  });

  test("the session user by cookie, by bearer token", async () => {
    const byCookie = await app.request("/api/v1/auths/", jar.with());
    expect(byCookie.status).toBe(200);
    expect(await byCookie.json()).toMatchObject({ email: "ada@example.com", role: "admin" });
    const byBearer = await app.request("/api/v1/auths/", bearer(adminToken));
    expect(byBearer.status).toBe(200);
  });

  test("no credential → 403 Not authenticated; garbage → 401", async () => {
    const none = await app.request("/api/v1/auths/");
    expect(none.status).toBe(403);
    expect(await none.json()).toEqual({ detail: "Not authenticated" });
    const garbage = await app.request("/api/v1/auths/", bearer("not.a.token"));
    expect(garbage.status).toBe(401);
  });

  test("sign-out revokes the token and clears every cookie with the attributes it was set with", async () => {
    const token = jar.cookies.get("token")!;
    const r = await app.request("/api/v1/auths/signout", jar.with());
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: true });
    const cleared = jar.take(r);
    for (const name of ["token", "oauth_session_id", "oauth_id_token"]) {
      const c = cleared.find((x) => x.startsWith(`${name}=`));
      expect(c).toBeDefined();
      expect(c).toContain("Max-Age=0");
      expect(c).toContain("Path=/");
      expect(c).toContain("SameSite=Lax");
    }
    const after = await app.request("/api/v1/auths/", bearer(token));
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ detail: MESSAGES.INVALID_TOKEN });
    // The other session (from sign-up) is untouched.
    expect((await app.request("/api/v1/auths/", bearer(adminToken))).status).toBe(200);
  });
});

describe("pending users and admin-added users", () => {
  test("a user added by the admin as pending is refused by verified routes with 401", async () => {
    const admin = await app.request("/api/v1/auths/signin", postJson({ email: "ada@example.com", password: "correct horse" }));
    const adminToken = ((await admin.json()) as { token: string }).token;
    const add = await app.request("/api/v1/auths/add", { ...postJson({ name: "Pat", email: "pat@example.com", password: "pending-pw" }), headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` } });
    expect(add.status).toBe(200);
    expect(await add.json()).toMatchObject({ email: "pat@example.com", role: "pending" });
    const pat = await app.request("/api/v1/auths/signin", postJson({ email: "pat@example.com", password: "pending-pw" }));
    expect(pat.status).toBe(200);
    const patToken = ((await pat.json()) as { token: string }).token;
    // The session itself is readable (Open WebUI shows a "pending" screen) ...
    expect((await app.request("/api/v1/auths/", bearer(patToken))).status).toBe(200);
    // ... but verified routes refuse.
    const r = await app.request("/api/v1/auths/api_key", { method: "POST", ...bearer(patToken) });
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ detail: MESSAGES.ACCESS_PROHIBITED });
    // A non-admin cannot add users.
    const notAdmin = await app.request("/api/v1/auths/add", { ...postJson({ name: "X", email: "x@example.com", password: "x" }), headers: { "content-type": "application/json", authorization: `Bearer ${patToken}` } });
    expect(notAdmin.status).toBe(401);
  });
});
