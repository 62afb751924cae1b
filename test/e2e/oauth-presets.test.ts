/**
 * The Google, Microsoft and GitHub presets end to end against local look-alikes of each
 * provider (test/fixtures/preset-lookalikes.ts), their base URLs overridden: login → session →
 * provider token → sign-out, and each provider's own checks (Google `hd` and signature against
 * its JWKS; Entra ID's tenant-templated issuer against `tid`, `common` vs a fixed tenant, no merge
 * on an unverified email; GitHub's primary verified email from `/user/emails`).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson, type CookieJar } from "../helpers/cookie-jar.ts";
import { browserLogin, type GatehouseFetch } from "../fixtures/oidc-provider-browser.ts";
import {
  LOOKALIKE_CLIENT, startGitHubLookalike, startGoogleLookalike, startMicrosoftLookalike,
  type GitHubUser, type GoogleUser, type Lookalike, type MicrosoftUser,
} from "../fixtures/preset-lookalikes.ts";
import { loadConfig } from "../../src/config/config.ts";
import { configuredProviders } from "../../src/oauth/providers.ts";
import { OAuthLoginError } from "../../src/oauth/oauth-errors.ts";

const TENANT_A = "4c1a1f6e-7a3b-4d8e-9f20-0a1b2c3d4e5f";
const TENANT_B = "9e8d7c6b-5a49-4382-a716-15e4d3c2b1a0";

describe("provider presets against look-alikes", () => {
  let google: Lookalike<GoogleUser>;
  let microsoft: Lookalike<MicrosoftUser>;
  let github: Lookalike<GitHubUser>;
  let app: TestApp;
  let gh: GatehouseFetch;
  beforeAll(async () => {
    [google, microsoft, github] = await Promise.all([startGoogleLookalike(), startMicrosoftLookalike(), startGitHubLookalike()]);
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("oauth_presets"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth-presets"),
      ENABLE_OAUTH_SIGNUP: "true",
      GATEHOUSE_CRYPTO_POLICY: "inline", // no pool calibration at each start: these tests are about OAuth
      ENABLE_SIGNUP: "true",
      OAUTH_MERGE_ACCOUNTS_BY_EMAIL: "true",
      GOOGLE_CLIENT_ID: LOOKALIKE_CLIENT.id, GOOGLE_CLIENT_SECRET: LOOKALIKE_CLIENT.secret,
      GOOGLE_ISSUER_URL: google.base, GOOGLE_HOSTED_DOMAIN: "example.com",
      MICROSOFT_CLIENT_ID: LOOKALIKE_CLIENT.id, MICROSOFT_CLIENT_SECRET: LOOKALIKE_CLIENT.secret,
      MICROSOFT_CLIENT_LOGIN_BASE_URL: microsoft.base, MICROSOFT_CLIENT_TENANT_ID: "common",
      GITHUB_CLIENT_ID: LOOKALIKE_CLIENT.id, GITHUB_CLIENT_SECRET: LOOKALIKE_CLIENT.secret,
      GITHUB_BASE_URL: github.base, GITHUB_API_URL: `${github.base}/api/v3`,
    });
    gh = (path, init) => app.request(path, init);
    expect((await gh("/api/v1/auths/signup", postJson({ name: "First", email: "first@example.com", password: "pw-123456" }))).status).toBe(200);
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([google?.stop(), microsoft?.stop(), github?.stop()]);
  });

  const login = async <U>(provider: string, idp: Lookalike<U>, user: U) => {
    idp.nextUser = user;
    return browserLogin(gh, "-", { provider });
  };
  const me = async (jar: CookieJar) => (await (await gh("/api/v1/auths/", jar.with())).json()) as { id: string; email: string; name: string };
  /** The rest of the flow after a successful login: provider token, sign-out, session gone. */
  const tokenAndSignOut = async (jar: CookieJar, provider: string) => {
    const t = await gh("/api/v1/auths/oauth/token", jar.with());
    expect(t.status).toBe(200);
    expect(((await t.json()) as { provider: string; access_token: string }).provider).toBe(provider);
    expect((await gh("/api/v1/auths/signout", jar.with())).status).toBe(200);
    expect((await gh("/api/v1/auths/", jar.with())).status).toBe(401);
  };

  test("Google: ID token verified against the JWKS, email_verified and hd read; full flow", async () => {
    const { jar, response } = await login("google", google, { sub: "g-1", email: "gina@example.com", email_verified: true, name: "Gina G", hd: "example.com" });
    expect(response!.headers.get("location")).toBe("/auth");
    expect(await me(jar)).toMatchObject({ email: "gina@example.com", name: "Gina G" });
    expect(google.requests["/oauth2/v3/certs"]).toBe(1);
    expect(google.requests["/v1/userinfo"]).toBe(1);
    await tokenAndSignOut(jar, "google");
  });

  test("Google: another Workspace domain or a consumer account is refused (hd); a foreign signature is refused", async () => {
    const other = await login("google", google, { sub: "g-2", email: "olaf@other.test", email_verified: true, name: "Olaf", hd: "other.test" });
    expect(other.response!.headers.get("location")).toBe("/auth?error=hosted_domain_mismatch");
    const consumer = await login("google", google, { sub: "g-3", email: "carl@example.com", email_verified: true, name: "Carl" });
    expect(consumer.response!.headers.get("location")).toBe("/auth?error=hosted_domain_mismatch");
    google.foreignKey = true;
    try {
      const forged = await login("google", google, { sub: "g-1", email: "gina@example.com", email_verified: true, name: "Gina G", hd: "example.com" });
      expect(forged.response!.headers.get("location")).toBe("/auth?error=invalid_id_token_signature");
    } finally {
      google.foreignKey = false;
    }
  });

  test("Microsoft common: users of two tenants sign in, each token's issuer filled from its tid; full flow", async () => {
    const a = await login("microsoft", microsoft, { sub: "ms-a", oid: "oid-a", tid: TENANT_A, email: "ann@tenant-a.test", name: "Ann A" });
    expect(a.response!.headers.get("location")).toBe("/auth");
    const b = await login("microsoft", microsoft, { sub: "ms-b", oid: "oid-b", tid: TENANT_B, email: "ben@tenant-b.test", name: "Ben B" });
    expect(b.response!.headers.get("location")).toBe("/auth");
    expect((await me(a.jar)).email).toBe("ann@tenant-a.test");
    expect((await me(b.jar)).email).toBe("ben@tenant-b.test");
    const out = await gh("/api/v1/auths/signout", a.jar.with());
    expect(((await out.json()) as { redirect_url: string }).redirect_url).toStartWith(`${microsoft.base}/common/oauth2/v2.0/logout?id_token_hint=`);
    await tokenAndSignOut(b.jar, "microsoft");
  });

  test("Microsoft common: an issuer naming another tenant than tid is refused; an unverified email never merges", async () => {
    const confused = await login("microsoft", microsoft, { sub: "ms-c", oid: "oid-c", tid: TENANT_A, issTenant: TENANT_B, email: "cid@tenant-a.test", name: "C" });
    expect(confused.response!.headers.get("location")).toBe("/auth?error=invalid_id_token");
    // Any tenant's admin can give a user any address: the existing account is not handed over.
    const takeover = await login("microsoft", microsoft, { sub: "ms-evil", oid: "oid-evil", tid: TENANT_B, email: "first@example.com", name: "Not First" });
    expect(takeover.response!.headers.get("location")).toBe("/auth?error=email_not_verified");
    expect((await app.instance.auth.users.byEmail("first@example.com"))!.oauth).toBeNull();
  });

  test("Microsoft fixed tenant: its users pass, another tenant's token is refused", async () => {
    const fixed = configuredProviders(loadConfig({
      WEBUI_SECRET_KEY: "k", MICROSOFT_CLIENT_ID: LOOKALIKE_CLIENT.id, MICROSOFT_CLIENT_SECRET: LOOKALIKE_CLIENT.secret,
      MICROSOFT_CLIENT_LOGIN_BASE_URL: microsoft.base, MICROSOFT_CLIENT_TENANT_ID: TENANT_A,
    })).get("microsoft")!;
    const exchange = async (user: MicrosoftUser) => {
      microsoft.nextUser = user;
      const secrets = { state: crypto.randomUUID(), nonce: crypto.randomUUID(), codeVerifier: "v".repeat(43), redirectUri: "http://gatehouse.test/oauth/microsoft/login/callback" };
      const authorize = await fetch(await fixed.authorizationUrl(secrets), { redirect: "manual" });
      expect(new URL(await fixed.authorizationUrl(secrets)).pathname).toBe(`/${TENANT_A}/oauth2/v2.0/authorize`);
      return fixed.exchange(new URL(authorize.headers.get("location")!), secrets);
    };
    expect((await exchange({ sub: "ms-f", oid: "oid-f", tid: TENANT_A, email: "fay@tenant-a.test", name: "Fay" })).claims["tid"]).toBe(TENANT_A);
    const refused = await exchange({ sub: "ms-g", oid: "oid-g", tid: TENANT_B, email: "gus@tenant-b.test", name: "Gus" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OAuthLoginError);
    expect((refused as OAuthLoginError).code).toBe("invalid_id_token");
  });

  test("GitHub (Enterprise Server URLs): private profile email → the primary verified one from /user/emails, merged into the existing account", async () => {
    const owner = (await app.instance.auth.users.byEmail("first@example.com"))!;
    const { jar, response } = await login("github", github, {
      id: 4242, login: "firstgh", name: null, email: null,
      emails: [{ email: "old@example.com", primary: false, verified: true, visibility: null }, { email: "first@example.com", primary: true, verified: true, visibility: "private" }],
    });
    expect(response!.headers.get("location")).toBe("/auth");
    expect(await me(jar)).toMatchObject({ id: owner.id, email: "first@example.com" });
    expect((await app.instance.auth.users.byId(owner.id))!.oauth).toEqual({ github: { sub: "4242" } });
    expect(github.requests["/api/v3/user/emails"]).toBe(1);
    await tokenAndSignOut(jar, "github");
  });

  test("GitHub: an unverified primary email does not merge; a bad code is a clear refusal", async () => {
    expect((await gh("/api/v1/auths/signup", postJson({ name: "Dana", email: "dana@example.com", password: "pw-123456" }))).status).toBe(200);
    const unverified = await login("github", github, { id: 5151, login: "dana-imposter", name: "D", email: "dana@example.com", emails: [{ email: "dana@example.com", primary: true, verified: false, visibility: "public" }] });
    expect(unverified.response!.headers.get("location")).toBe("/auth?error=email_not_verified");
    const { jar, callbackPath } = await browserLogin(gh, "-", { provider: "github", stopBeforeCallback: true });
    const bad = new URL(callbackPath, "http://x");
    bad.searchParams.set("code", "not-a-code");
    const r = await gh(bad.pathname + bad.search, jar.with());
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toBe("/auth?error=bad_verification_code");
  });
});
