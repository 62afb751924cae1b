/**
 * The OIDC provider matrix: one real `oidc-provider` per configuration and two Gatehouse
 * instances on the same database and Redis, and in each configuration the full flow — login on
 * A → session on B → `/api/v1/auths/` → provider token → sign-out (with the provider's logout URL,
 * followed at the provider) → the session refused everywhere. The spec default (claims only at
 * userinfo) is the first entry; each entry adds the checks its configuration is about.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson, type CookieJar } from "../helpers/cookie-jar.ts";
import { startOidcProvider, type OidcFixture, type OidcFixtureOptions, type TestAccount } from "../fixtures/oidc-provider.ts";
import { browserLogin, followProviderLogout, type GatehouseFetch } from "../fixtures/oidc-provider-browser.ts";

const ORIGIN = "http://gatehouse.test";
const CALLBACK = `${ORIGIN}/oauth/oidc/login/callback`;

/** What a case's own checks get. */
interface Ctx {
  idp: OidcFixture;
  a: TestApp;
  b: TestApp;
  ghA: GatehouseFetch;
  ghB: GatehouseFetch;
  jar: CookieJar;
  userId: string;
}

interface Case {
  name: string;
  idp?: Partial<OidcFixtureOptions>;
  env?: Record<string, string>;
  /** The signed-in account (its `sub` is the case key) and the email/name Gatehouse must read. */
  account: Omit<TestAccount, "sub">;
  expected: { email: string; name: string };
  /** Whether the stored ID token itself carries the email claim. */
  emailInIdToken: boolean;
  /** The case's own checks, after the common flow's login (before sign-out). */
  check?: (c: Ctx) => Promise<void>;
}

const token = (gh: GatehouseFetch, jar: CookieJar) => gh("/api/v1/auths/oauth/token", jar.with());
const stored = async (c: Ctx, jar = c.jar) => (await c.a.instance.oauth.sessions.open(jar.cookies.get("oauth_session_id")!, c.userId))!.dict;
/** Rewrites the session's token dict as if the access token had expired a moment ago. */
const expireRow = async (c: Ctx, jar = c.jar) => {
  const dict = await stored(c, jar);
  const now = Math.floor(Date.now() / 1000);
  await c.a.instance.oauth.sessions.update(jar.cookies.get("oauth_session_id")!, { ...dict, expires_at: now - 10, issued_at: now - 70 });
};

const CASES: Case[] = [
  {
    name: "spec default: claims only at userinfo",
    account: { email: "spec@example.com", name: "Spec Default" },
    expected: { email: "spec@example.com", name: "Spec Default" },
    emailInIdToken: false,
    check: async (c) => {
      // The pages' sign-out form follows the provider's logout URL too (another device's session).
      const other = await browserLogin(c.ghA, "case0", { userAgent: "page-device" });
      const r = await c.ghB("/auth/signout", other.jar.with({ method: "POST", headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" }, body: "" }));
      expect(r.status).toBe(200); // a page that refreshes to the provider: form-action 'self' forbids a cross-site redirect
      const html = await r.text();
      const logout = new URL(/http-equiv="refresh" content="0; url=([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, "&"));
      expect(logout.origin + logout.pathname).toBe(`${c.idp.issuer}/session/end`);
      expect((await followProviderLogout(logout.href)).origin).toBe(ORIGIN);
      expect((await c.ghA("/api/v1/auths/", other.jar.with())).status).toBe(401);
    },
  },
  {
    name: "claims in the ID token",
    idp: { conformIdTokenClaims: false },
    account: { email: "inid@example.com", name: "In Id Token" },
    expected: { email: "inid@example.com", name: "In Id Token" },
    emailInIdToken: true,
    check: async (c) => {
      // Precedence: the ID token's claims win; userinfo only fills what the ID token lacks (picture).
      c.idp.addAccount({ sub: "precedence", email: "id-token@example.com", name: "Id Token Name" });
      c.idp.userinfoOverride = { email: "userinfo@example.com", name: "Userinfo Name", picture: "https://img.example.com/p.png" };
      try {
        const p = await browserLogin(c.ghA, "precedence");
        const user = (await (await c.ghB("/api/v1/auths/", p.jar.with())).json()) as { email: string; name: string; profile_image_url: string };
        expect({ email: user.email, name: user.name, picture: user.profile_image_url }).toEqual({ email: "id-token@example.com", name: "Id Token Name", picture: "https://img.example.com/p.png" });
      } finally {
        c.idp.userinfoOverride = null;
      }
      // An ID token too big for a cookie (> 4 KB) is kept in the row, only the cookie is skipped.
      c.idp.addAccount({ sub: "heavy", email: "heavy@example.com", name: "Heavy", extra: { groups: Array.from({ length: 80 }, (_, i) => `group-with-a-long-name-${i}-${"x".repeat(40)}`) } });
      const heavy = await browserLogin(c.ghA, "heavy");
      expect(heavy.response!.headers.get("location")).toBe("/auth");
      expect(heavy.jar.cookies.has("oauth_id_token")).toBe(false);
      const me = (await (await c.ghB("/api/v1/auths/", heavy.jar.with())).json()) as { id: string };
      const row = await c.a.instance.oauth.sessions.open(heavy.jar.cookies.get("oauth_session_id")!, me.id);
      expect(row!.dict.id_token!.length).toBeGreaterThan(4096);
    },
  },
  {
    name: "signed JWT userinfo",
    idp: { jwtUserinfo: true },
    account: { email: "jwt@example.com", name: "Jwt Userinfo" },
    expected: { email: "jwt@example.com", name: "Jwt Userinfo" },
    emailInIdToken: false,
    check: async (c) => {
      const res = await fetch(`${c.idp.issuer}/me`, { headers: { authorization: `Bearer ${(await stored(c)).access_token}` } });
      expect(res.headers.get("content-type")).toStartWith("application/jwt");
    },
  },
  {
    name: "nested claim paths (OAUTH_EMAIL_CLAIM=attributes.mail)",
    env: { OAUTH_EMAIL_CLAIM: "attributes.mail", OAUTH_USERNAME_CLAIM: "attributes.display_name" },
    account: { email: "top-level@example.com", name: "Top Level", extra: { attributes: { mail: "nested@example.com", display_name: "Nested Name" } } },
    expected: { email: "nested@example.com", name: "Nested Name" },
    emailInIdToken: false,
  },
  {
    name: "email_verified false: sign-up works, merge refused",
    env: { OAUTH_MERGE_ACCOUNTS_BY_EMAIL: "true", ENABLE_SIGNUP: "true" },
    account: { email: "unverified@example.com", name: "Unverified", emailVerified: false },
    expected: { email: "unverified@example.com", name: "Unverified" },
    emailInIdToken: false,
    check: async (c) => {
      expect((await c.ghA("/api/v1/auths/signup", postJson({ name: "Pw", email: "pw-owner@example.com", password: "pw-123456" }))).status).toBe(200);
      c.idp.addAccount({ sub: "claims-pw-owner", email: "pw-owner@example.com", name: "Intruder", emailVerified: false });
      expect((await browserLogin(c.ghA, "claims-pw-owner")).response!.headers.get("location")).toBe("/auth?error=email_not_verified");
      expect((await c.a.instance.auth.users.byEmail("pw-owner@example.com"))!.oauth).toBeNull();
    },
  },
  {
    name: "no refresh tokens",
    idp: { refreshTokens: false },
    account: { email: "norefresh@example.com", name: "No Refresh" },
    expected: { email: "norefresh@example.com", name: "No Refresh" },
    emailInIdToken: false,
    check: async (c) => {
      expect((await stored(c)).refresh_token).toBeUndefined();
      // Another device's token expires without a way to refresh: that provider session has ended (401, not a 500 or 503).
      const { jar } = await browserLogin(c.ghA, "case5", { userAgent: "second-device" });
      await expireRow(c, jar);
      expect((await token(c.ghB, jar)).status).toBe(401);
      expect(await c.a.instance.oauth.sessions.repo.byId(jar.cookies.get("oauth_session_id")!)).toBeNull();
      expect((await token(c.ghB, c.jar)).status).toBe(200);
    },
  },
  {
    name: "access token shorter than the refresh window",
    idp: { accessTokenTtl: 60 },
    account: { email: "shortlived@example.com", name: "Short Lived" },
    expected: { email: "shortlived@example.com", name: "Short Lived" },
    emailInIdToken: false,
    check: async (c) => {
      // 60 s < the 300 s refresh margin: a fresh token is served as is, not refreshed on every call.
      const before = c.idp.grants["refresh_token"] ?? 0;
      for (const gh of [c.ghA, c.ghB, c.ghA, c.ghB]) expect((await token(gh, c.jar)).status).toBe(200);
      expect(c.idp.grants["refresh_token"] ?? 0).toBe(before);
      await expireRow(c);
      const calls = await Promise.all([c.ghA, c.ghB, c.ghA, c.ghB].map((gh) => token(gh, c.jar)));
      expect(calls.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(c.idp.grants["refresh_token"]).toBe(before + 1);
      const dict = await stored(c);
      expect(dict.expires_at - dict.issued_at).toBe(60);
    },
  },
];

let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabaseUrl("oauth_matrix");
});

for (const [i, c] of CASES.entries()) {
  const sub = `case${i}`;
  describe(`OIDC provider matrix: ${c.name}`, () => {
    const ctx = {} as Ctx;
    beforeAll(async () => {
      ctx.idp = await startOidcProvider({
        redirectUris: [CALLBACK],
        postLogoutRedirectUris: [ORIGIN],
        accounts: [{ sub, ...c.account }],
        ...c.idp,
      });
      const env = {
        DATABASE_URL: databaseUrl,
        REDIS_URL: await redisUrl(),
        REDIS_KEY_PREFIX: uniquePrefix(`oauth-matrix-${i}`),
        WEBUI_URL: ORIGIN,
        GATEHOUSE_CRYPTO_POLICY: "inline", // no pool calibration at each start: these tests are about OAuth
        OAUTH_CLIENT_ID: ctx.idp.clientId,
        OAUTH_CLIENT_SECRET: ctx.idp.clientSecret,
        OPENID_PROVIDER_URL: ctx.idp.issuer,
        OPENID_REDIRECT_URI: CALLBACK,
        ENABLE_OAUTH_SIGNUP: "true",
        DEFAULT_USER_ROLE: "user",
        ...c.env,
      };
      [ctx.a, ctx.b] = await Promise.all([startTestApp(env), startTestApp(env)]);
      ctx.ghA = (path, init) => ctx.a.request(path, init);
      ctx.ghB = (path, init) => ctx.b.request(path, init);
    });
    afterAll(async () => {
      await Promise.all([ctx.a?.close(), ctx.b?.close()]);
      await ctx.idp?.stop();
    });

    test("login on A → session on B → /api/v1/auths/ → provider token → sign-out with the provider's logout URL", async () => {
      const userinfoCalls = ctx.idp.requests["/me"] ?? 0;
      const { jar, response } = await browserLogin(ctx.ghA, sub);
      expect(response!.headers.get("location")).toBe("/auth");
      expect(ctx.idp.requests["/me"]).toBe(userinfoCalls + 1);
      ctx.jar = jar;

      const who = await ctx.ghB("/api/v1/auths/", jar.with());
      expect(who.status).toBe(200);
      const me = (await who.json()) as { id: string; email: string; name: string };
      expect({ email: me.email, name: me.name }).toEqual(c.expected);
      ctx.userId = me.id;
      const dict = await stored(ctx);
      expect(decodeJwt(dict.id_token!)["email"] !== undefined).toBe(c.emailInIdToken);

      const t = await token(ctx.ghB, jar);
      expect(t.status).toBe(200);
      expect(((await t.json()) as { access_token: string }).access_token).toBe(dict.access_token);

      await c.check?.(ctx);
      const idTokenHint = (await stored(ctx)).id_token!; // a refresh in the check may have replaced it

      const out = await ctx.ghA("/api/v1/auths/signout", jar.with());
      expect(out.status).toBe(200);
      const body = (await out.json()) as { status: boolean; redirect_url?: string };
      expect(body.status).toBe(true);
      const logout = new URL(body.redirect_url!);
      expect(logout.origin + logout.pathname).toBe(`${ctx.idp.issuer}/session/end`);
      expect(logout.searchParams.get("id_token_hint")).toBe(idTokenHint);
      expect(logout.searchParams.get("post_logout_redirect_uri")).toBe(ORIGIN);
      const state = logout.searchParams.get("state")!;
      expect(state.length).toBeGreaterThanOrEqual(22);
      // The provider accepts it and sends the browser back to WEBUI_URL with the state.
      const back = await followProviderLogout(body.redirect_url!);
      expect(back.origin).toBe(ORIGIN);
      expect(back.searchParams.get("state")).toBe(state);

      for (const gh of [ctx.ghA, ctx.ghB]) expect((await gh("/api/v1/auths/", jar.with())).status).toBe(401);
      expect(await ctx.a.instance.oauth.sessions.repo.byId(jar.cookies.get("oauth_session_id")!)).toBeNull();
    });
  });
}
