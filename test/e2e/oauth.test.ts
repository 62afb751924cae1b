import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin, type GatehouseFetch } from "../fixtures/oidc-provider-browser.ts";
import { SessionCipher } from "../../src/oauth/session-cipher.ts";

const CALLBACK = "http://gatehouse.test/oauth/oidc/login/callback";

describe("OIDC sign-in against a real OpenID provider", () => {
  let idp: OidcFixture;
  let app: TestApp;
  let gh: GatehouseFetch;
  let cipher: SessionCipher;
  beforeAll(async () => {
    idp = await startOidcProvider({
      redirectUris: [CALLBACK],
      accounts: [
        { sub: "alice", email: "alice@example.com", name: "Alice" },
        { sub: "bob", email: "bob@example.com", name: "Bob" },
        { sub: "carol", email: "carol@example.com", name: "Carol" },
      ],
    });
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("oauth"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth"),
      OAUTH_CLIENT_ID: idp.clientId,
      OAUTH_CLIENT_SECRET: idp.clientSecret,
      OPENID_PROVIDER_URL: `${idp.issuer}/.well-known/openid-configuration`,
      OPENID_REDIRECT_URI: CALLBACK,
      ENABLE_OAUTH_SIGNUP: "true",
      OAUTH_MAX_SESSIONS_PER_USER: "10",
      DEFAULT_USER_ROLE: "user",
    });
    gh = (path, init) => app.request(path, init);
    cipher = await SessionCipher.create(app.services.crypto, "test-webui-secret-key");
  });
  afterAll(async () => {
    await app?.close();
    await idp?.stop();
  });

  const rowsOf = (userId: string) => app.instance.oauth.sessions.repo.listForUser(userId, "oidc");
  const me = (init: RequestInit) => gh("/api/v1/auths/", init);

  test("login → callback → cookies → authenticated request → provider token", async () => {
    const { jar, response } = await browserLogin(gh, "alice");
    expect(response!.status).toBe(302);
    expect(response!.headers.get("location")).toBe("/auth");
    const setCookies = response!.headers.getSetCookie();
    const byName = (n: string) => setCookies.find((c) => c.startsWith(`${n}=`));
    expect(byName("token")).toContain("HttpOnly");
    expect(byName("oauth_session_id")).toBeDefined();
    expect(byName("oauth_id_token")).toBeDefined();

    const who = await me(jar.with());
    expect(who.status).toBe(200);
    const user = (await who.json()) as { id: string; email: string; role: string };
    expect(user.email).toBe("alice@example.com");
    expect(user.role).toBe("admin"); // the first user

    const sessionId = jar.cookies.get("oauth_session_id")!;
    const rows = await rowsOf(user.id);
    expect(rows.map((r) => r.id)).toEqual([sessionId]);
    const dict = await cipher.decrypt(rows[0]!.token);
    expect(dict!.refresh_token).toBeString();
    expect(dict!.expires_at - dict!.issued_at).toBe(3600);
    expect(rows[0]!.expires_at).toBe(dict!.expires_at);

    const devices = await app.instance.auth.sessions.listLive(user.id);
    expect(devices).toHaveLength(1);
    expect(devices[0]!.auth_method).toBe("oauth");
    expect(devices[0]!.oauth_session_id).toBe(sessionId);

    const t = await gh("/api/v1/auths/oauth/token", jar.with());
    expect(t.status).toBe(200);
    expect(await t.json()).toEqual({ provider: "oidc", access_token: dict!.access_token, expires_at: dict!.expires_at });
    expect(await app.instance.oauth.tokens.getOAuthToken(user.id, sessionId)).toEqual({ provider: "oidc", access_token: dict!.access_token, expires_at: dict!.expires_at });
  });

  test("multi-device (#21647): B's login keeps A's session; sign-out on B deletes only B's row", async () => {
    const a = await browserLogin(gh, "bob", { userAgent: "device-a" });
    const b = await browserLogin(gh, "bob", { userAgent: "device-b" });
    const userId = ((await (await me(a.jar.with())).json()) as { id: string }).id;
    expect((await rowsOf(userId)).length).toBe(2);
    const tokenA = await gh("/api/v1/auths/oauth/token", a.jar.with());
    expect(tokenA.status).toBe(200);
    const tokenB = await gh("/api/v1/auths/oauth/token", b.jar.with());
    expect(tokenB.status).toBe(200);
    expect(((await tokenA.json()) as { access_token: string }).access_token).not.toBe(((await tokenB.json()) as { access_token: string }).access_token);

    // Another user's session id is not found, even when named explicitly.
    const aliceish = await gh(`/api/v1/auths/oauth/token?session_id=${a.jar.cookies.get("oauth_session_id")}`, { headers: { cookie: `token=${b.jar.cookies.get("token")}` } });
    expect(aliceish.status).toBe(200); // same user, own session: allowed

    expect((await gh("/api/v1/auths/signout", b.jar.with())).status).toBe(200);
    const left = await rowsOf(userId);
    expect(left.map((r) => r.id)).toEqual([a.jar.cookies.get("oauth_session_id")!]);
    expect((await gh("/api/v1/auths/oauth/token", a.jar.with())).status).toBe(200);
  });

  test("a session id of another user is 404", async () => {
    const alice = await browserLogin(gh, "alice");
    const bob = await browserLogin(gh, "bob");
    const r = await gh(`/api/v1/auths/oauth/token?session_id=${alice.jar.cookies.get("oauth_session_id")}`, bob.jar.with());
    expect(r.status).toBe(404);
  });

  test("11 logins with the limit at 10 leave 10 rows and the oldest device's token refused", async () => {
    const devices = [];
    for (let i = 0; i < 11; i++) devices.push(await browserLogin(gh, "carol", { userAgent: `device-${i}` }));
    const userId = ((await (await me(devices[10]!.jar.with())).json()) as { id: string }).id;
    const rows = await rowsOf(userId);
    expect(rows).toHaveLength(10);
    const oldest = devices[0]!.jar.cookies.get("oauth_session_id");
    expect(rows.map((r) => r.id)).not.toContain(oldest);
    expect((await me(devices[0]!.jar.with())).status).toBe(401);
    for (const d of devices.slice(1)) expect((await me(d.jar.with())).status).toBe(200);
  });

  test("DELETE /api/v1/auths/oauth/sessions/{provider} removes the caller's rows of that provider only", async () => {
    const mine = await browserLogin(gh, "alice");
    const theirs = await browserLogin(gh, "bob");
    const aliceId = ((await (await me(mine.jar.with())).json()) as { id: string }).id;
    const bobId = ((await (await me(theirs.jar.with())).json()) as { id: string }).id;
    const bobRows = (await rowsOf(bobId)).length;
    // A cookie-authenticated unsafe request is JSON from our own origin (the CSRF guard).
    const r = await gh("/api/v1/auths/oauth/sessions/oidc", mine.jar.with({ method: "DELETE", headers: { "content-type": "application/json", origin: "http://gatehouse.test" } }));
    expect(r.status).toBe(200);
    expect(await rowsOf(aliceId)).toEqual([]);
    expect((await rowsOf(bobId)).length).toBe(bobRows);
    expect((await gh("/api/v1/auths/oauth/token", mine.jar.with())).status).toBe(404);
  });
});
