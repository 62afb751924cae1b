/**
 * Account takeover through merge-by-email: with `OAUTH_MERGE_ACCOUNTS_BY_EMAIL`, a provider that
 * lets anyone claim any address (a multi-tenant directory, a self-service IdP) must not link
 * its login to an existing Gatehouse account unless it asserts `email_verified: true`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin, type GatehouseFetch } from "../fixtures/oidc-provider-browser.ts";
import { loadConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { emailVerified } from "../../src/oauth/email-verified.ts";

const CALLBACK = "http://gatehouse.test/oauth/oidc/login/callback";

describe("OAuth merge-by-email requires a verified email", () => {
  let idp: OidcFixture;
  let app: TestApp;
  let gh: GatehouseFetch;
  beforeAll(async () => {
    idp = await startOidcProvider({
      redirectUris: [CALLBACK],
      accounts: [
        { sub: "attacker", email: "victim@example.com", name: "Not the victim", emailVerified: false },
        { sub: "owner", email: "owner@example.com", name: "Owner" },
      ],
    });
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("oauth_merge_unverified"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth-merge-unverified"),
      OAUTH_CLIENT_ID: idp.clientId,
      OAUTH_CLIENT_SECRET: idp.clientSecret,
      OPENID_PROVIDER_URL: idp.issuer,
      OPENID_REDIRECT_URI: CALLBACK,
      OAUTH_MERGE_ACCOUNTS_BY_EMAIL: "true",
      ENABLE_SIGNUP: "true",
      GATEHOUSE_CRYPTO_POLICY: "inline", // no pool calibration at each start: these tests are about OAuth
    });
    gh = (path, init) => app.request(path, init);
    for (const email of ["victim@example.com", "owner@example.com"]) {
      expect((await gh("/api/v1/auths/signup", postJson({ name: "Password user", email, password: "pw-123456" }))).status).toBe(200);
    }
  });
  afterAll(async () => {
    await app?.close();
    await idp?.stop();
  });

  test("an unverified email at the provider does not take over the existing account", async () => {
    const { jar, response } = await browserLogin(gh, "attacker");
    expect(response!.headers.get("location")).toBe("/auth?error=email_not_verified");
    expect(jar.cookies.has("token")).toBe(false);
    expect((await app.instance.auth.users.byEmail("victim@example.com"))!.oauth).toBeNull();
  });

  test("a verified email still merges (oauth.oidc.sub linked, signed in)", async () => {
    const { jar, response } = await browserLogin(gh, "owner");
    expect(response!.headers.get("location")).toBe("/auth");
    const me = (await (await gh("/api/v1/auths/", jar.with())).json()) as { email: string };
    expect(me.email).toBe("owner@example.com");
    expect((await app.instance.auth.users.byEmail("owner@example.com"))!.oauth).toEqual({ oidc: { sub: "owner" } });
  });
});

describe("OAUTH_MERGE_UNVERIFIED_EMAIL_PROVIDERS: the operator's documented opt-in for one provider", () => {
  test("listed provider: the unverified email merges; the setting names providers, not a global switch", async () => {
    const idp = await startOidcProvider({ redirectUris: [CALLBACK], accounts: [{ sub: "no-claim-idp-user", email: "trusted@example.com", name: "T", emailVerified: false }] });
    const app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("oauth_merge_override"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth-merge-override"),
      GATEHOUSE_CRYPTO_POLICY: "inline",
      OAUTH_CLIENT_ID: idp.clientId,
      OAUTH_CLIENT_SECRET: idp.clientSecret,
      OPENID_PROVIDER_URL: idp.issuer,
      OPENID_REDIRECT_URI: CALLBACK,
      OAUTH_MERGE_ACCOUNTS_BY_EMAIL: "true",
      OAUTH_MERGE_UNVERIFIED_EMAIL_PROVIDERS: "oidc",
    });
    try {
      const gh: GatehouseFetch = (path, init) => app.request(path, init);
      expect((await gh("/api/v1/auths/signup", postJson({ name: "Trusted", email: "trusted@example.com", password: "pw-123456" }))).status).toBe(200);
      expect((await browserLogin(gh, "no-claim-idp-user")).response!.headers.get("location")).toBe("/auth");
      expect((await app.instance.auth.users.byEmail("trusted@example.com"))!.oauth).toEqual({ oidc: { sub: "no-claim-idp-user" } });
    } finally {
      await app.close();
      await idp.stop();
    }
  });
});

describe("Microsoft multi-tenant logins never merge on an unverified email", () => {
  const env = { WEBUI_SECRET_KEY: "test-webui-secret-key", OAUTH_MERGE_ACCOUNTS_BY_EMAIL: "true", OAUTH_MERGE_UNVERIFIED_EMAIL_PROVIDERS: "microsoft" };

  test("the per-provider override is refused for the common / organizations / consumers authorities", () => {
    for (const tenant of [undefined, "common", "organizations", "Consumers"]) {
      expect(() => loadConfig({ ...env, ...(tenant ? { MICROSOFT_CLIENT_TENANT_ID: tenant } : {}) })).toThrow(ConfigError);
    }
    expect(loadConfig({ ...env, MICROSOFT_CLIENT_TENANT_ID: "9188040d-6c67-4c5b-b112-36a304b66dad" }).oauth.mergeUnverifiedEmailProviders).toEqual(["microsoft"]);
    expect(() => loadConfig({ ...env, OAUTH_MERGE_UNVERIFIED_EMAIL_PROVIDERS: "okta" })).toThrow(ConfigError);
  });

  test("an Entra ID token without email_verified or xms_edov is not verified", () => {
    expect(emailVerified("microsoft", { email: "victim@example.com", tid: "attacker-tenant" })).toBe(false);
    expect(emailVerified("microsoft", { email: "victim@example.com", xms_edov: false })).toBe(false);
    expect(emailVerified("microsoft", { email: "victim@example.com", xms_edov: true })).toBe(true);
    expect(emailVerified("oidc", { email: "victim@example.com", xms_edov: true })).toBe(false);
    expect(emailVerified("oidc", { email: "victim@example.com", email_verified: "false" })).toBe(false);
  });
});
