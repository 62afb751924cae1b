import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { entryCommand, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { freePort } from "../harness/services.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin, type GatehouseFetch } from "../fixtures/oidc-provider-browser.ts";
import type { CookieJar } from "../helpers/cookie-jar.ts";

interface Token { provider: string; access_token: string; expires_at: number }

/** Rewrites a session's stored token dict so it expired a moment ago (and optionally breaks its refresh token). */
async function expire(app: TestApp, sessionId: string, userId: string, refreshToken?: string): Promise<void> {
  const open = await app.instance.oauth.sessions.open(sessionId, userId);
  const now = Math.floor(Date.now() / 1000);
  const dict = { ...open!.dict, expires_at: now - 10, issued_at: now - 3610 };
  if (refreshToken !== undefined) dict.refresh_token = refreshToken;
  await app.instance.oauth.sessions.update(sessionId, dict);
}

const userIdOf = async (gh: GatehouseFetch, jar: CookieJar) => ((await (await gh("/api/v1/auths/", jar.with())).json()) as { id: string }).id;

describe("provider token refresh (in process)", () => {
  let idp: OidcFixture;
  let app: TestApp;
  let gh: GatehouseFetch;
  const CALLBACK = "http://gatehouse.test/oauth/oidc/login/callback";
  beforeAll(async () => {
    idp = await startOidcProvider({ redirectUris: [CALLBACK], accounts: [{ sub: "dave", email: "dave@example.com", name: "Dave" }] });
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("oauth_refresh"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth-refresh"),
      OAUTH_CLIENT_ID: idp.clientId,
      OAUTH_CLIENT_SECRET: idp.clientSecret,
      OPENID_PROVIDER_URL: idp.issuer,
      OPENID_REDIRECT_URI: CALLBACK,
      ENABLE_OAUTH_SIGNUP: "true",
    });
    gh = (path, init) => app.request(path, init);
  });
  afterAll(async () => {
    await app?.close();
    await idp?.stop();
  });

  test("an expired token is refreshed once (rotation) and then served from the row", async () => {
    const { jar } = await browserLogin(gh, "dave");
    const userId = await userIdOf(gh, jar);
    const sid = jar.cookies.get("oauth_session_id")!;
    const before = (await app.instance.oauth.sessions.open(sid, userId))!.dict;
    await expire(app, sid, userId);
    const refreshes = idp.grants["refresh_token"] ?? 0;
    const calls = await Promise.all(Array.from({ length: 10 }, () => gh("/api/v1/auths/oauth/token", jar.with())));
    const bodies = (await Promise.all(calls.map((r) => r.json()))) as Token[];
    expect(calls.every((r) => r.status === 200)).toBe(true);
    expect(new Set(bodies.map((b) => b.access_token)).size).toBe(1);
    expect(bodies[0]!.access_token).not.toBe(before.access_token);
    expect(idp.grants["refresh_token"]).toBe(refreshes + 1);
    const after = (await app.instance.oauth.sessions.open(sid, userId))!.dict;
    expect(after.refresh_token).not.toBe(before.refresh_token); // rotated
    expect(after.expires_at).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect((await gh("/api/v1/auths/oauth/token", jar.with())).status).toBe(200);
    expect(idp.grants["refresh_token"]).toBe(refreshes + 1);
    // Discovery and the key set were fetched once for this instance, not per login or refresh.
    expect(idp.requests["/.well-known/openid-configuration"]).toBe(1);
    expect(idp.requests["/jwks"]).toBe(1);
  });

  test("provider down during refresh: session kept, clear error; works again when it is back", async () => {
    const { jar } = await browserLogin(gh, "dave");
    const userId = await userIdOf(gh, jar);
    const sid = jar.cookies.get("oauth_session_id")!;
    await expire(app, sid, userId);
    await idp.stop();
    try {
      const r = await gh("/api/v1/auths/oauth/token", jar.with());
      expect(r.status).toBe(503);
      expect(((await r.json()) as { detail: string }).detail).toContain("unavailable");
      expect(await app.instance.oauth.sessions.repo.byId(sid)).not.toBeNull();
    } finally {
      await idp.start();
    }
    const again = await gh("/api/v1/auths/oauth/token", jar.with());
    expect(again.status).toBe(200);
  });

  test("invalid_grant ends the session (401, row deleted)", async () => {
    const { jar } = await browserLogin(gh, "dave");
    const userId = await userIdOf(gh, jar);
    const sid = jar.cookies.get("oauth_session_id")!;
    await expire(app, sid, userId, "not-a-refresh-token");
    const r = await gh("/api/v1/auths/oauth/token", jar.with());
    expect(r.status).toBe(401);
    expect(await app.instance.oauth.sessions.repo.byId(sid)).toBeNull();
    expect((await gh("/api/v1/auths/oauth/token", jar.with())).status).toBe(404);
  });

  test("the sweep deletes expired rows that cannot be refreshed and keeps the rest", async () => {
    const dead = await browserLogin(gh, "dave");
    const live = await browserLogin(gh, "dave");
    const userId = await userIdOf(gh, dead.jar);
    const deadId = dead.jar.cookies.get("oauth_session_id")!;
    const liveId = live.jar.cookies.get("oauth_session_id")!;
    await expire(app, deadId, userId, "");
    await expire(app, liveId, userId);
    await app.instance.oauth.sweep.runOnce();
    expect(await app.instance.oauth.sessions.repo.byId(deadId)).toBeNull();
    const kept = await app.instance.oauth.sessions.open(liveId, userId);
    expect(kept!.dict.expires_at).toBeGreaterThan(Date.now() / 1000); // refreshed by the sweep
  });
});

describe("single-flight refresh across two server processes", () => {
  let idp: OidcFixture;
  let admin: TestApp;
  const procs: ServerProcess[] = [];
  afterAll(async () => {
    for (const p of procs) p.kill("SIGKILL");
    await admin?.close();
    await idp?.stop();
  });

  test("20 concurrent calls on an expired token over two instances (A on Deno, B on Bun): one refresh at the provider, one new token", async () => {
    const ports = [await freePort(), await freePort()];
    idp = await startOidcProvider({
      redirectUris: ports.map((p) => `http://127.0.0.1:${p}/oauth/oidc/login/callback`),
      accounts: [{ sub: "erin", email: "erin@example.com", name: "Erin" }],
    });
    const env = {
      DATABASE_URL: await freshDatabaseUrl("oauth_flight"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth-flight"),
      WEBUI_SECRET_KEY: "test-webui-secret-key",
      OAUTH_CLIENT_ID: idp.clientId,
      OAUTH_CLIENT_SECRET: idp.clientSecret,
      OPENID_PROVIDER_URL: idp.issuer,
      ENABLE_OAUTH_SIGNUP: "true",
    };
    admin = await startTestApp(env);
    // A mixed fleet: the OIDC sign-in (discovery, callback, ID token, encrypted session) runs on Deno.
    for (const [i, port] of ports.entries()) procs.push(await startServerProcess({ ...env, PORT: String(port) }, entryCommand(i === 0 ? "deno" : "bun")));
    const [a, b] = procs as [ServerProcess, ServerProcess];
    const via = (p: ServerProcess): GatehouseFetch => (path, init) => fetch(`${p.baseUrl}${path}`, { ...init, redirect: "manual" });

    const { jar } = await browserLogin(via(a), "erin");
    const userId = await userIdOf(via(a), jar);
    const sid = jar.cookies.get("oauth_session_id")!;
    await expire(admin, sid, userId);
    idp.refreshDelayMs = 300; // keep the refresh in flight while the others arrive
    const before = idp.grants["refresh_token"] ?? 0;
    const calls = await Promise.all(Array.from({ length: 20 }, (_, i) => via(i % 2 === 0 ? a : b)("/api/v1/auths/oauth/token", jar.with())));
    const bodies = (await Promise.all(calls.map((r) => r.json()))) as Token[];
    idp.refreshDelayMs = 0;
    expect(calls.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect((idp.grants["refresh_token"] ?? 0) - before).toBe(1);
    expect(new Set(bodies.map((t) => t.access_token)).size).toBe(1);
    const stored = await admin.instance.oauth.sessions.open(sid, userId);
    expect(stored!.dict.access_token).toBe(bodies[0]!.access_token);
  });
});
