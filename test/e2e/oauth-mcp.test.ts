import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { CookieJar, postJson } from "../helpers/cookie-jar.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin, type GatehouseFetch } from "../fixtures/oidc-provider-browser.ts";

const CALLBACK = "http://gatehouse.test/oauth/clients/mcp:tools/callback";

describe("MCP tool-server sessions (provider mcp:{id})", () => {
  let idp: OidcFixture;
  let app: TestApp;
  let gh: GatehouseFetch;
  beforeAll(async () => {
    idp = await startOidcProvider({ clientId: "mcp-client", redirectUris: [CALLBACK], accounts: [{ sub: "ivy-at-tools", email: "ivy@tools.test", name: "Ivy" }] });
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("oauth_mcp"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("oauth-mcp"),
      ENABLE_SIGNUP: "true",
      GATEHOUSE_ALLOWED_HOSTS: "gatehouse.test",
      DEFAULT_USER_ROLE: "user",
      GATEHOUSE_OAUTH_MCP_CLIENTS: JSON.stringify([{ id: "tools", issuer: idp.issuer, client_id: "mcp-client", client_secret: idp.clientSecret, scopes: "openid" }]),
    });
    gh = (path, init) => app.request(path, init);
  });
  afterAll(async () => {
    await app?.close();
    await idp?.stop();
  });

  test("a signed-in user authorises a client; re-authorising replaces the session; tokens are served", async () => {
    const jar = new CookieJar();
    const signup = await gh("/api/v1/auths/signup", postJson({ name: "Ivy", email: "ivy@example.com", password: "pw-123456" }));
    expect(signup.status).toBe(200);
    jar.take(signup);
    const userId = ((await signup.json()) as { id: string }).id;

    const first = await browserLogin(gh, "ivy-at-tools", { startPath: "/oauth/clients/mcp:tools/authorize", jar });
    expect(first.response!.status).toBe(302);
    expect(first.response!.headers.get("location")).toBe("/");
    const rows1 = await app.instance.oauth.sessions.repo.listForUser(userId, "mcp:tools");
    expect(rows1).toHaveLength(1);

    await browserLogin(gh, "ivy-at-tools", { startPath: "/oauth/clients/mcp:tools/authorize", jar });
    const rows2 = await app.instance.oauth.sessions.repo.listForUser(userId, "mcp:tools");
    expect(rows2).toHaveLength(1);
    expect(rows2[0]!.id).not.toBe(rows1[0]!.id);

    const t = await gh("/api/v1/auths/oauth/token?provider=mcp:tools", jar.with());
    expect(t.status).toBe(200);
    const body = (await t.json()) as { provider: string; access_token: string };
    expect(body.provider).toBe("mcp:tools");
    const stored = await app.instance.oauth.sessions.open(rows2[0]!.id, userId);
    expect(body.access_token).toBe(stored!.dict.access_token);
    // The password session has no OAuth session cookie: without ?provider there is nothing to serve.
    expect((await gh("/api/v1/auths/oauth/token", jar.with())).status).toBe(404);
  });

  test("not signed in: refused as every authenticated route (403 Not authenticated); unknown client: 404", async () => {
    const anon = await gh("/oauth/clients/mcp:tools/authorize");
    expect(anon.status).toBe(403);
    expect(anon.headers.get("location")).toBeNull();
    const jar = new CookieJar();
    jar.take(await gh("/api/v1/auths/signup", postJson({ name: "J", email: "j@example.com", password: "pw-123456" })));
    expect((await gh("/oauth/clients/mcp:nope/authorize", jar.with())).status).toBe(404);
  });
});
