import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT, generateKeyPair } from "jose";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin, type GatehouseFetch } from "../fixtures/oidc-provider-browser.ts";

const CALLBACK = "http://gatehouse.test/oauth/oidc/login/callback";
const EVENT = "http://schemas.openid.net/event/backchannel-logout";

describe("OpenID back-channel logout", () => {
  let idp: OidcFixture;
  let app: TestApp;
  let gh: GatehouseFetch;
  beforeAll(async () => {
    idp = await startOidcProvider({ redirectUris: [CALLBACK], accounts: [{ sub: "gina", email: "gina@example.com", name: "Gina" }, { sub: "hank", email: "hank@example.com", name: "Hank" }] });
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("oauth_bcl"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth-bcl"),
      OAUTH_CLIENT_ID: idp.clientId,
      OAUTH_CLIENT_SECRET: idp.clientSecret,
      OPENID_PROVIDER_URL: idp.issuer,
      OPENID_REDIRECT_URI: CALLBACK,
      ENABLE_OAUTH_SIGNUP: "true",
      DEFAULT_USER_ROLE: "user",
      ENABLE_OAUTH_BACKCHANNEL_LOGOUT: "true",
    });
    gh = (path, init) => app.request(path, init);
  });
  afterAll(async () => {
    await app?.close();
    await idp?.stop();
  });

  const claims = (sub: string, extra: Record<string, unknown> = {}) => ({
    iss: idp.issuer, aud: idp.clientId, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), sub, events: { [EVENT]: {} }, ...extra,
  });
  const post = (token: string) => gh("/oauth/backchannel-logout", {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ logout_token: token }).toString(),
  });

  test("a valid logout token ends the user's provider sessions and revokes every device", async () => {
    const a = await browserLogin(gh, "gina", { userAgent: "a" });
    const b = await browserLogin(gh, "gina", { userAgent: "b" });
    const other = await browserLogin(gh, "hank");
    const id = ((await (await gh("/api/v1/auths/", a.jar.with())).json()) as { id: string }).id;
    const logoutToken = await idp.signWithProviderKey(claims("gina"), "logout+jwt");
    const r = await post(logoutToken);
    expect(r.status).toBe(200);
    expect((await post(logoutToken)).status).toBe(400); // a replayed logout token
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(await app.instance.oauth.sessions.repo.listForUser(id)).toEqual([]);
    expect((await gh("/api/v1/auths/", a.jar.with())).status).toBe(401);
    expect((await gh("/api/v1/auths/", b.jar.with())).status).toBe(401);
    expect((await gh("/api/v1/auths/", other.jar.with())).status).toBe(200);
  });

  test("refused: a nonce, no logout event, a foreign signature, another audience, no token", async () => {
    const h = await browserLogin(gh, "hank");
    expect((await post(await idp.signWithProviderKey(claims("hank", { nonce: "n" })))).status).toBe(400);
    expect((await post(await idp.signWithProviderKey(claims("hank", { events: {} })))).status).toBe(400);
    expect((await post(await idp.signWithProviderKey(claims("hank", { aud: "someone-else" })))).status).toBe(400);
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT(claims("hank")).setProtectedHeader({ alg: "RS256", kid: "fixture-key" }).sign(privateKey);
    expect((await post(forged)).status).toBe(400);
    expect((await gh("/oauth/backchannel-logout", { method: "POST" })).status).toBe(400);
    expect((await gh("/api/v1/auths/", h.jar.with())).status).toBe(200);
  });
});
