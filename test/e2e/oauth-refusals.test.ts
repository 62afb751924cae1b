import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin, type GatehouseFetch } from "../fixtures/oidc-provider-browser.ts";

const CALLBACK = "http://gatehouse.test/oauth/oidc/callback"; // the legacy callback path

describe("OAuth callbacks that must be refused (redirect with an error, never a 500)", () => {
  let idp: OidcFixture;
  let app: TestApp;
  let gh: GatehouseFetch;
  beforeAll(async () => {
    idp = await startOidcProvider({
      redirectUris: [CALLBACK],
      accounts: [
        { sub: "frank", email: "frank@example.com", name: "Frank" },
        { sub: "mallory", email: "mallory@elsewhere.test", name: "Mallory" },
        { sub: "root", email: "root@example.com", name: "Root", extra: { realm_access: { roles: ["gh-admin"] } } },
        { sub: "guest", email: "guest@example.com", name: "Guest", extra: { realm_access: { roles: ["visitor"] } } },
      ],
    });
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("oauth_refusals"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth-refusals"),
      OAUTH_CLIENT_ID: idp.clientId,
      OAUTH_CLIENT_SECRET: idp.clientSecret,
      OPENID_PROVIDER_URL: idp.issuer,
      OPENID_REDIRECT_URI: CALLBACK,
      ENABLE_OAUTH_SIGNUP: "true",
      OAUTH_ALLOWED_DOMAINS: "example.com",
      ENABLE_OAUTH_ROLE_MANAGEMENT: "true",
      OAUTH_ROLES_CLAIM: "realm_access.roles",
      OAUTH_ALLOWED_ROLES: "gh-user,gh-admin",
      OAUTH_ADMIN_ROLES: "gh-admin",
      GATEHOUSE_OAUTH_PROVIDER_TIMEOUT_MS: "3000",
    });
    gh = (path, init) => app.request(path, init);
  });
  afterAll(async () => {
    idp.tamper = null;
    await app?.close();
    await idp?.stop();
  });

  const errorOf = (r: Response) => {
    expect(r.status).toBe(302);
    const loc = new URL(r.headers.get("location")!, "http://x");
    expect(loc.pathname).toBe("/auth");
    expect(r.headers.getSetCookie().some((c) => c.startsWith("token="))).toBe(false);
    return loc.searchParams.get("error");
  };
  const oauthRows = async () => Number((await app.services.pool.run("t", async (c) => c`select count(*)::int as n from oauth_session`))[0]!["n"]);

  test("state mismatch (the callback does not belong to this browser)", async () => {
    const { jar, callbackPath } = await browserLogin(gh, "frank", { stopBeforeCallback: true });
    jar.cookies.set("gatehouse_oauth_state", "someone-elses-state");
    expect(errorOf(await gh(callbackPath, jar.with()))).toBe("state_mismatch");
    expect(errorOf(await gh(callbackPath))).toBe("state_mismatch"); // no cookie at all
  });

  test("replayed callback", async () => {
    const { jar, callbackPath } = await browserLogin(gh, "frank", { stopBeforeCallback: true });
    const state = jar.cookies.get("gatehouse_oauth_state")!;
    const first = await gh(callbackPath, jar.with());
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe("/auth");
    const rows = await oauthRows();
    jar.cookies.set("gatehouse_oauth_state", state); // an attacker who kept the cookie
    expect(errorOf(await gh(callbackPath, jar.with()))).toBe("state_expired_or_used");
    expect(await oauthRows()).toBe(rows);
  });

  test("expired login transaction", async () => {
    const { jar, callbackPath } = await browserLogin(gh, "frank", { stopBeforeCallback: true });
    await app.services.store.del(`oauth:login:${jar.cookies.get("gatehouse_oauth_state")}`); // what the TTL does
    expect(errorOf(await gh(callbackPath, jar.with()))).toBe("state_expired_or_used");
  });

  test("wrong nonce in the ID token", async () => {
    const r = await browserLogin(gh, "frank", { mutateAuthorizationUrl: (u) => u.searchParams.set("nonce", "attacker-chosen-nonce") });
    expect(errorOf(r.response!)).toBe("nonce_mismatch");
  });

  /** The error a login ends with while the provider tampers with its ID tokens this way. */
  async function errorWhileTampering(kind: "foreign-key" | "expired"): Promise<string | null> {
    idp.tamper = kind;
    try {
      return errorOf((await browserLogin(gh, "frank")).response!);
    } finally {
      idp.tamper = null;
    }
  }

  test("ID token signed by another key", async () => {
    expect(await errorWhileTampering("foreign-key")).toBe("invalid_id_token_signature");
  });

  test("expired ID token", async () => {
    expect(await errorWhileTampering("expired")).toBe("id_token_expired");
  });

  test("provider error in the callback", async () => {
    const { jar } = await browserLogin(gh, "frank", { stopBeforeCallback: true });
    const state = jar.cookies.get("gatehouse_oauth_state")!;
    const r = await gh(`/oauth/oidc/login/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`, jar.with());
    expect(errorOf(r)).toBe("access_denied");
  });

  test("OAUTH_ALLOWED_DOMAINS refuses other domains", async () => {
    expect(errorOf((await browserLogin(gh, "mallory")).response!)).toBe("domain_not_allowed");
  });

  test("role management: dotted roles claim maps to admin / pending", async () => {
    const root = await browserLogin(gh, "root");
    expect(root.response!.status).toBe(302);
    const me = (await (await gh("/api/v1/auths/", root.jar.with())).json()) as { role: string };
    expect(me.role).toBe("admin");
    const guest = await browserLogin(gh, "guest");
    expect(guest.response!.headers.get("location")).toBe("/auth");
    const row = await app.instance.auth.users.byEmail("guest@example.com");
    expect(row!.role).toBe("pending");
    expect(row!.oauth).toEqual({ oidc: { sub: "guest" } });
  });

  test("an existing account with the same email is not taken over without OAUTH_MERGE_ACCOUNTS_BY_EMAIL", async () => {
    await app.instance.auth.users.insert({ id: crypto.randomUUID(), email: "taken@example.com", name: "T", role: "user", passwordHash: "x" });
    await idp.addAccount({ sub: "taker", email: "taken@example.com", name: "Taker" });
    expect(errorOf((await browserLogin(gh, "taker")).response!)).toBe("email_taken");
    expect((await app.instance.auth.users.byEmail("taken@example.com"))!.oauth).toBeNull();
  });

  test("a failing userinfo endpoint: userinfo_failed redirect, no session, no user", async () => {
    const rows = await oauthRows();
    idp.addAccount({ sub: "uinfo", email: "uinfo@example.com", name: "U" });
    idp.userinfoStatus = 500;
    try {
      expect(errorOf((await browserLogin(gh, "uinfo")).response!)).toBe("userinfo_failed");
    } finally {
      idp.userinfoStatus = null;
    }
    expect(await oauthRows()).toBe(rows);
    expect(await app.instance.auth.users.byEmail("uinfo@example.com")).toBeNull();
  });

  test("a userinfo answer about another subject: userinfo_sub_mismatch", async () => {
    idp.addAccount({ sub: "subswap", email: "subswap@example.com", name: "S" });
    idp.userinfoOverride = { sub: "frank", email: "frank@example.com" };
    try {
      expect(errorOf((await browserLogin(gh, "subswap")).response!)).toBe("userinfo_sub_mismatch");
    } finally {
      idp.userinfoOverride = null;
    }
    expect(await app.instance.auth.users.byEmail("subswap@example.com")).toBeNull();
  });

  test("a userinfo endpoint slower than the provider timeout: userinfo_failed when the timeout fires, not when it answers", async () => {
    idp.addAccount({ sub: "slowinfo", email: "slowinfo@example.com", name: "S" });
    idp.userinfoDelayMs = 12_000;
    const started = performance.now();
    try {
      expect(errorOf((await browserLogin(gh, "slowinfo")).response!)).toBe("userinfo_failed");
    } finally {
      idp.userinfoDelayMs = 0;
    }
    expect(performance.now() - started).toBeLessThan(10_000); // the 3 s timeout, not the 12 s answer
    expect(await app.instance.auth.users.byEmail("slowinfo@example.com")).toBeNull();
  });

  test("unknown provider is 404", async () => {
    expect((await gh("/oauth/nope/login")).status).toBe(404);
  });
});

describe("OAuth sign-up closed, accounts merged by email", () => {
  let idp: OidcFixture;
  let app: TestApp;
  let gh: GatehouseFetch;
  beforeAll(async () => {
    idp = await startOidcProvider({
      redirectUris: [CALLBACK],
      accounts: [{ sub: "kim-sub", email: "Kim@Example.com", name: "Kim" }, { sub: "newbie", email: "newbie@example.com", name: "New" }],
    });
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("oauth_merge"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth-merge"),
      OAUTH_CLIENT_ID: idp.clientId,
      OAUTH_CLIENT_SECRET: idp.clientSecret,
      OPENID_PROVIDER_URL: idp.issuer,
      OPENID_REDIRECT_URI: CALLBACK,
      OAUTH_MERGE_ACCOUNTS_BY_EMAIL: "true",
    });
    gh = (path, init) => app.request(path, init);
  });
  afterAll(async () => {
    await app?.close();
    await idp?.stop();
  });

  test("the password account is linked (oauth.oidc.sub) and signed in; an unknown person is refused", async () => {
    const signup = await gh("/api/v1/auths/signup", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Kim", email: "kim@example.com", password: "pw-123456" }) });
    const kimId = ((await signup.json()) as { id: string }).id;
    const { jar, response } = await browserLogin(gh, "kim-sub");
    expect(response!.headers.get("location")).toBe("/auth");
    expect(((await (await gh("/api/v1/auths/", jar.with())).json()) as { id: string }).id).toBe(kimId);
    expect((await app.instance.auth.users.byId(kimId))!.oauth).toEqual({ oidc: { sub: "kim-sub" } });
    const again = await browserLogin(gh, "kim-sub"); // now found by sub
    expect(again.response!.headers.get("location")).toBe("/auth");

    const r = (await browserLogin(gh, "newbie")).response!;
    expect(r.headers.get("location")).toBe("/auth?error=signup_disabled");
    expect(await app.instance.auth.users.byEmail("newbie@example.com")).toBeNull();
  });
});
