import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin } from "../fixtures/oidc-provider-browser.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { recordPeerAddress } from "../../src/net/client-address.ts";

const CALLBACK = "http://gatehouse.test/oauth/oidc/login/callback";

describe("GATEHOUSE_ACCESS_GROUPS: sign-in needs an access group; losing the last one at an OAuth or trusted-header sign-in ends access", () => {
  let idp: OidcFixture;
  let on: TestApp; // GATEHOUSE_ACCESS_GROUPS=staff,contractors
  let off: TestApp; // the setting unset: nothing changes
  const oidcEnv = () => ({
    OAUTH_CLIENT_ID: idp.clientId, OAUTH_CLIENT_SECRET: idp.clientSecret,
    OPENID_PROVIDER_URL: `${idp.issuer}/.well-known/openid-configuration`, OPENID_REDIRECT_URI: CALLBACK,
    ENABLE_OAUTH_SIGNUP: "true", DEFAULT_USER_ROLE: "user", ENABLE_OAUTH_GROUP_MANAGEMENT: "true", ENABLE_OAUTH_GROUP_CREATION: "true",
    ENABLE_SIGNUP: "true", GATEHOUSE_LOG_LEVEL: "info",
  });
  const account = (sub: string, groups: string[]) => ({ sub, email: `${sub}@example.com`, name: sub, extra: { groups } });
  beforeAll(async () => {
    idp = await startOidcProvider({ redirectUris: [CALLBACK], accounts: [{ sub: "root", email: "root@example.com", name: "Root" }] });
    [on, off] = await Promise.all([
      (async () => startTestApp({
        ...oidcEnv(), DATABASE_URL: await freshDatabaseUrl("access_on"), GATEHOUSE_ACCESS_GROUPS: "staff,contractors",
        WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email", WEBUI_AUTH_TRUSTED_GROUPS_HEADER: "X-Forwarded-Groups", GATEHOUSE_TRUSTED_PROXIES: "10.0.0.1",
      }))(),
      (async () => startTestApp({ ...oidcEnv(), DATABASE_URL: await freshDatabaseUrl("access_off") }))(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
    await idp?.stop();
  });

  /** An OAuth login as `sub` whose groups claim is `groups`: the callback's response and the session token, if any. */
  const login = async (app: TestApp, sub: string, groups: string[]) => {
    idp.addAccount(account(sub, groups));
    const r = await browserLogin((p, i) => app.request(p, i), sub);
    return { status: r.response!.status, body: r.response!.status === 403 ? ((await r.response!.json()) as { detail: string }) : null, token: r.jar.cookies.get("token") };
  };
  const me = (app: TestApp, cred: string) => app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${cred}` } });
  const apiKey = async (app: TestApp, token: string) => {
    const r = await app.request("/api/v1/auths/api_key", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
    expect(r.status).toBe(200);
    return ((await r.json()) as { api_key: string }).api_key;
  };

  test("OAuth: a claim without an access group is refused 403, and the sessions, API key and provider sessions the user held are revoked", async () => {
    expect((await login(on, "root", [])).status).toBe(302); // the first user is the admin: never locked out
    const first = await login(on, "dana", ["staff", "eng"]);
    expect(first.status).toBe(302);
    const key = await apiKey(on, first.token!);
    expect((await me(on, key)).status).toBe(200);
    const dana = (await on.instance.auth.users.byEmail("dana@example.com"))!;
    expect((await on.instance.oauth.sessions.repo.listForUser(dana.id)).length).toBe(1);

    const refused = await login(on, "dana", ["eng"]);
    expect(refused.status).toBe(403);
    expect(refused.body!.detail).toContain("group that grants access");
    expect((await me(on, first.token!)).status).toBe(401);
    expect((await me(on, key)).status).toBe(401);
    expect((await on.instance.oauth.sessions.repo.listForUser(dana.id)).length).toBe(0);
    expect(on.logText()).toContain('"reason":"access_group_lost"');
    expect(on.logText()).toContain('"reason":"no_access_group"');

    // Regaining an access group lets them sign in again; the old credentials stay dead.
    const back = await login(on, "dana", ["contractors"]);
    expect(back.status).toBe(302);
    expect((await me(on, back.token!)).status).toBe(200);
    expect((await me(on, first.token!)).status).toBe(401);
  });

  test("OAuth: a user who leaves one access group but keeps another keeps their session", async () => {
    const first = await login(on, "erin", ["staff", "contractors"]);
    expect(first.status).toBe(302);
    const next = await login(on, "erin", ["contractors"]);
    expect(next.status).toBe(302);
    expect((await me(on, first.token!)).status).toBe(200);
    expect((await me(on, next.token!)).status).toBe(200);
  });

  test("password sign-up and trusted-header sign-in are refused without an access group; a trusted groups header that drops the last one revokes", async () => {
    const signup = await on.request("/api/v1/auths/signup", postJson({ name: "pat", email: "pat@example.com", password: "pw" }));
    expect(signup.status).toBe(403);
    expect(((await signup.json()) as { detail: string }).detail).toContain("group that grants access");
    // (Password sign-in refused after group loss: test/security/group-loss.test.ts; here /signin is the trusted header's.)

    const viaHeader = async (groups: string) => {
      const req = new Request("http://gatehouse.test/api/v1/auths/signin", {
        ...postJson({ email: "", password: "" }),
        headers: { "content-type": "application/json", "x-forwarded-email": "hank@example.com", "x-forwarded-groups": groups },
      });
      recordPeerAddress(req, "10.0.0.1");
      return on.fetch(req);
    };
    const ok = await viaHeader("staff,eng");
    expect(ok.status).toBe(200);
    const token = ((await ok.json()) as { token: string }).token;
    expect((await me(on, token)).status).toBe(200);
    expect((await viaHeader("eng")).status).toBe(403);
    expect((await me(on, token)).status).toBe(401);
  });

  test("with the setting off nothing changes: sign-in without groups works and losing groups revokes nothing", async () => {
    expect((await login(off, "root", [])).status).toBe(302);
    const first = await login(off, "dana", ["staff"]);
    expect(first.status).toBe(302);
    const key = await apiKey(off, first.token!);
    expect((await login(off, "dana", [])).status).toBe(302);
    expect((await me(off, first.token!)).status).toBe(200);
    expect((await me(off, key)).status).toBe(200);
    expect((await off.request("/api/v1/auths/signup", postJson({ name: "pat", email: "pat@example.com", password: "pw" }))).status).toBe(200);
  });
});
