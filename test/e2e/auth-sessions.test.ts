import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { MESSAGES } from "../../src/auth/messages.ts";
import { decodeJwt } from "jose";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    DATABASE_URL: await freshDatabaseUrl("sessions"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("sessions"),
    ENABLE_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
  });
  await app.request("/api/v1/auths/signup", postJson({ name: "Owner", email: "owner@example.com", password: "owner-pw" }));
});
afterAll(async () => {
  await app.close();
});

const as = (token: string, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });
async function signIn(email: string, password: string, userAgent: string): Promise<string> {
  const r = await app.request("/api/v1/auths/signin", postJson({ email, password }, { "user-agent": userAgent }));
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}
const me = (token: string) => app.request("/api/v1/auths/", as(token));

describe("device sessions", () => {
  test("list, mark current, revoke one, revoke all others", async () => {
    await app.request("/api/v1/auths/signup", postJson({ name: "Dee", email: "dee@example.com", password: "dee-pw" }));
    const laptop = await signIn("dee@example.com", "dee-pw", "Laptop/1.0");
    const phone = await signIn("dee@example.com", "dee-pw", "Phone/2.0");
    const tablet = await signIn("dee@example.com", "dee-pw", "Tablet/3.0");

    const list = (await (await app.request("/api/v1/auths/sessions", as(laptop))).json()) as Array<{ id: string; user_agent: string; current: boolean; auth_method: string }>;
    // The sign-up session (no user agent) and the three sign-ins.
    expect(list).toHaveLength(4);
    expect(list.map((s) => s.user_agent).filter(Boolean).sort()).toEqual(["Laptop/1.0", "Phone/2.0", "Tablet/3.0"]);
    expect(list.filter((s) => s.current)).toHaveLength(1);
    expect(list.find((s) => s.current)!.user_agent).toBe("Laptop/1.0");
    const phoneSession = list.find((s) => s.user_agent === "Phone/2.0")!;
    expect(phoneSession.auth_method).toBe("password");

    const del = await app.request(`/api/v1/auths/sessions/${phoneSession.id}`, as(laptop, { method: "DELETE" }));
    expect(del.status).toBe(200);
    expect((await me(phone)).status).toBe(401);
    expect((await me(tablet)).status).toBe(200);
    const after = (await (await app.request("/api/v1/auths/sessions", as(laptop))).json()) as Array<{ id: string }>;
    expect(after.map((s) => s.id)).not.toContain(phoneSession.id);

    const all = await app.request("/api/v1/auths/sessions", as(laptop, { method: "DELETE" }));
    expect(all.status).toBe(200);
    expect((await me(tablet)).status).toBe(401);
    expect((await me(laptop)).status).toBe(200);
    const left = (await (await app.request("/api/v1/auths/sessions", as(laptop))).json()) as Array<{ current: boolean }>;
    expect(left).toHaveLength(1);
    expect(left[0]!.current).toBe(true);
  });

  test("someone else's session id is not found, and stays alive", async () => {
    const mine = await signIn("owner@example.com", "owner-pw", "Owner/1");
    const theirs = await signIn("dee@example.com", "dee-pw", "Dee/9");
    const theirList = (await (await app.request("/api/v1/auths/sessions", as(theirs))).json()) as Array<{ id: string; current: boolean }>;
    const target = theirList.find((s) => s.current)!.id;
    const r = await app.request(`/api/v1/auths/sessions/${target}`, as(mine, { method: "DELETE" }));
    expect(r.status).toBe(404);
    expect((await me(theirs)).status).toBe(200);
  });

  test("a password change revokes every other session and keeps the caller's", async () => {
    await app.request("/api/v1/auths/signup", postJson({ name: "Pam", email: "pam@example.com", password: "old-pw" }));
    const a = await signIn("pam@example.com", "old-pw", "A");
    await Bun.sleep(1100); // a later iat for b, so revoked_at (a.iat - 1) does not cover it by time alone
    const b = await signIn("pam@example.com", "old-pw", "B");
    const wrong = await app.request("/api/v1/auths/update/password", as(b, postJson({ password: "nope", new_password: "new-pw" })));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ detail: MESSAGES.INVALID_PASSWORD });
    const ok = await app.request("/api/v1/auths/update/password", as(b, postJson({ password: "old-pw", new_password: "new-pw" })));
    expect(ok.status).toBe(200);
    expect((await me(a)).status).toBe(401);
    expect((await me(b)).status).toBe(200);
    expect((await app.request("/api/v1/auths/signin", postJson({ email: "pam@example.com", password: "old-pw" }))).status).toBe(400);
    expect((await app.request("/api/v1/auths/signin", postJson({ email: "pam@example.com", password: "new-pw" }))).status).toBe(200);
  });

  test("sign out everywhere ends every token, including the caller's", async () => {
    const x = await signIn("owner@example.com", "owner-pw", "X");
    const y = await signIn("owner@example.com", "owner-pw", "Y");
    const r = await app.request("/api/v1/auths/signout/everywhere", as(x, { method: "POST" }));
    expect(r.status).toBe(200);
    expect((await me(x)).status).toBe(401);
    expect((await me(y)).status).toBe(401);
    // Signing straight back in (same second) gives a token that works.
    const again = await signIn("owner@example.com", "owner-pw", "Z");
    expect((await me(again)).status).toBe(200);
  });

  test("tokens without exp are still revocable", async () => {
    const noExp = await startTestApp({
      DATABASE_URL: app.services.config.db.url!,
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: app.services.store.prefix,
      JWT_EXPIRES_IN: "-1",
      ENABLE_SIGNUP: "true",
    });
    try {
      const r = await noExp.request("/api/v1/auths/signin", postJson({ email: "dee@example.com", password: "dee-pw" }));
      const body = (await r.json()) as { token: string; expires_at: number | null };
      expect(body.expires_at).toBeNull();
      expect(r.headers.getSetCookie()[0]).not.toContain("Max-Age");
      expect((await noExp.request("/api/v1/auths/", as(body.token))).status).toBe(200);
      await noExp.request("/api/v1/auths/signout", as(body.token));
      expect((await noExp.request("/api/v1/auths/", as(body.token))).status).toBe(401);
      const ttl = await noExp.services.store.ttl(`auth:token:${decodeJwt(body.token).jti}:revoked`);
      expect(ttl).toBeGreaterThan(365 * 86400 * 1000);
    } finally {
      await noExp.close();
    }
  });

  test("a token in the last quarter of its life is re-issued with the same session", async () => {
    const short = await startTestApp({
      DATABASE_URL: app.services.config.db.url!,
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: app.services.store.prefix,
      JWT_EXPIRES_IN: "8s",
    });
    try {
      const r = await short.request("/api/v1/auths/signin", postJson({ email: "dee@example.com", password: "dee-pw" }));
      const first = ((await r.json()) as { token: string }).token;
      const fresh = await short.request("/api/v1/auths/", as(first));
      expect(((await fresh.json()) as { token: string }).token).toBe(first);
      expect(fresh.headers.getSetCookie()).toHaveLength(0);
      // Into the last quarter of the token's own life (iat + 6 s of 8 s), well before it expires.
      const { iat } = decodeJwt(first) as { iat: number };
      await Bun.sleep(Math.max(0, (iat + 6.2) * 1000 - Date.now()));
      const renewed = await short.request("/api/v1/auths/", as(first));
      expect(renewed.status).toBe(200);
      const second = ((await renewed.json()) as { token: string }).token;
      expect(second).not.toBe(first);
      expect(renewed.headers.getSetCookie()[0]).toContain(`token=${second}`);
      const jti = (t: string) => decodeJwt(t).jti;
      expect(jti(second)).toBe(jti(first));
      // Revoking the session revokes the renewed token too.
      await short.request("/api/v1/auths/signout", as(second));
      expect((await short.request("/api/v1/auths/", as(second))).status).toBe(401);
    } finally {
      await short.close();
    }
  });
});

describe("admin changes to a user reach every session", () => {
  test("demotion to pending is refused at once; deletion revokes every token", async () => {
    const ownerToken = await signIn("owner@example.com", "owner-pw", "Admin");
    await app.request("/api/v1/auths/signup", postJson({ name: "Vic", email: "vic@example.com", password: "vic-pw" }));
    const vic = await signIn("vic@example.com", "vic-pw", "Vic");
    const vicId = ((await (await me(vic)).json()) as { id: string }).id;
    // Warm every cache with a verified call.
    expect((await app.request("/api/v1/auths/api_key", as(vic, { method: "POST" }))).status).toBe(200);

    const demote = await app.request(`/api/v1/users/${vicId}/update`, as(ownerToken, postJson({ role: "pending" })));
    expect(demote.status).toBe(200);
    expect(await demote.json()).toMatchObject({ role: "pending" });
    const refused = await app.request("/api/v1/auths/api_key", as(vic, { method: "POST" }));
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ detail: MESSAGES.ACCESS_PROHIBITED });

    const notAdmin = await app.request(`/api/v1/users/${vicId}`, as(vic, { method: "DELETE" }));
    expect(notAdmin.status).toBe(401);
    const del = await app.request(`/api/v1/users/${vicId}`, as(ownerToken, { method: "DELETE" }));
    expect(del.status).toBe(200);
    expect((await me(vic)).status).toBe(401);
    expect((await app.request(`/api/v1/users/${vicId}`, as(ownerToken, { method: "DELETE" }))).status).toBe(404);
  });
});
