import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin } from "../fixtures/oidc-provider-browser.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { recordPeerAddress } from "../../src/net/client-address.ts";

const CALLBACK = "http://gatehouse.test/oauth/oidc/login/callback";

describe("group sync from the OIDC groups claim, the trusted groups header, and groups in Gatehouse", () => {
  let idp: OidcFixture;
  let a: TestApp; // array claim, creation on, blocked groups, trusted header
  let b: TestApp; // nested string claim under the legacy variable name, creation off
  const oidcEnv = () => ({
    OAUTH_CLIENT_ID: idp.clientId, OAUTH_CLIENT_SECRET: idp.clientSecret,
    OPENID_PROVIDER_URL: `${idp.issuer}/.well-known/openid-configuration`, OPENID_REDIRECT_URI: CALLBACK,
    ENABLE_OAUTH_SIGNUP: "true", DEFAULT_USER_ROLE: "user", ENABLE_OAUTH_GROUP_MANAGEMENT: "true",
  });
  beforeAll(async () => {
    idp = await startOidcProvider({
      redirectUris: [CALLBACK],
      accounts: [
        { sub: "root", email: "root@example.com", name: "Root" },
        { sub: "dana", email: "dana@example.com", name: "Dana", extra: { groups: ["eng", "ops", "blocked-x", "  ", 7] } },
        { sub: "erin", email: "erin@example.com", name: "Erin", extra: { realm_access: { groups: "eng|sales|nope" } } },
      ],
    });
    [a, b] = await Promise.all([
      (async () => startTestApp({
        ...oidcEnv(), DATABASE_URL: await freshDatabaseUrl("groups_a"),
        ENABLE_OAUTH_GROUP_CREATION: "true", OAUTH_BLOCKED_GROUPS: '["blocked-*", "^legacy-[0-9]+$"]',
        WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email", WEBUI_AUTH_TRUSTED_GROUPS_HEADER: "X-Forwarded-Groups", GATEHOUSE_TRUSTED_PROXIES: "10.0.0.1",
      }))(),
      (async () => startTestApp({ ...oidcEnv(), DATABASE_URL: await freshDatabaseUrl("groups_b"), OAUTH_GROUP_CLAIM: "realm_access.groups", OAUTH_GROUPS_SEPARATOR: "|" }))(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await idp?.stop();
  });

  const names = async (app: TestApp, email: string) => {
    const u = await app.instance.auth.users.byEmail(email);
    return (await app.instance.groups.repo.forUser(u!.id)).map((g) => g.name).sort();
  };
  const login = (app: TestApp, sub: string) => browserLogin((p, i) => app.request(p, i), sub);

  test("array claim: groups created (creation on), blocked ones never created, left or joined; removed when the claim shrinks", async () => {
    await login(a, "root"); // first user: admin
    const blockedKeep = await a.instance.groups.repo.create({ name: "blocked-keep", description: "", creatorId: "x" });
    const legacy = await a.instance.groups.repo.create({ name: "legacy-7", description: "", creatorId: "x" });
    const first = await login(a, "dana");
    expect((await a.request("/api/v1/auths/", first.jar.with())).status).toBe(200);
    const dana = (await a.instance.auth.users.byEmail("dana@example.com"))!;
    await a.instance.groups.repo.addMembers(blockedKeep.id, [dana.id]);
    await a.instance.groups.repo.addMembers(legacy.id, [dana.id]);
    expect(await names(a, "dana@example.com")).toEqual(["blocked-keep", "eng", "legacy-7", "ops"]);
    expect((await a.instance.groups.repo.list({ name: "blocked-x" })).total).toBe(0);

    idp.addAccount({ sub: "dana", email: "dana@example.com", name: "Dana", extra: { groups: ["eng"] } });
    await login(a, "dana");
    expect(await names(a, "dana@example.com")).toEqual(["blocked-keep", "eng", "legacy-7"]);
    idp.addAccount({ sub: "dana", email: "dana@example.com", name: "Dana", extra: {} });
    await login(a, "dana");
    expect(await names(a, "dana@example.com")).toEqual(["blocked-keep", "legacy-7"]);
    expect(a.logText()).toContain('"source":"oauth"');
  });

  test("nested string claim split on OAUTH_GROUPS_SEPARATOR (OAUTH_GROUP_CLAIM); creation off joins only existing groups", async () => {
    for (const n of ["eng", "sales"]) await b.instance.groups.repo.create({ name: n, description: "", creatorId: "x" });
    await login(b, "root");
    await login(b, "erin");
    expect(await names(b, "erin@example.com")).toEqual(["eng", "sales"]);
    expect((await b.instance.groups.repo.list({ name: "nope" })).total).toBe(0);
  });

  test("trusted groups header: honoured from the trusted proxy only", async () => {
    const signin = (peer: string, groups: string) => {
      const req = new Request("http://gatehouse.test/api/v1/auths/signin", {
        ...postJson({ email: "", password: "" }),
        headers: { "content-type": "application/json", "x-forwarded-email": "hank@example.com", "x-forwarded-groups": groups },
      });
      recordPeerAddress(req, peer);
      return a.fetch(req);
    };
    expect((await signin("10.0.0.1", "support, eng ,blocked-y")).status).toBe(200);
    expect(await names(a, "hank@example.com")).toEqual(["eng", "support"]);
    // From another peer every proxy header is ignored (no sign-in: the body is empty) and the groups
    // stay as they were; a header without names from the proxy changes nothing either.
    expect((await signin("10.0.0.2", "eng")).status).toBe(400);
    expect(await names(a, "hank@example.com")).toEqual(["eng", "support"]);
    expect((await signin("10.0.0.1", " , ")).status).toBe(200);
    expect(await names(a, "hank@example.com")).toEqual(["eng", "support"]);
    expect((await signin("::ffff:10.0.0.1", "support")).status).toBe(200);
    expect(await names(a, "hank@example.com")).toEqual(["support"]);
  });

  test("forward auth names the groups; GET /api/v1/groups/ in Open WebUI's shape; a model granted to a group follows membership", async () => {
    const hank = (await a.instance.auth.users.byEmail("hank@example.com"))!;
    const issued = await a.instance.auth.issuer.issue(hank, { method: "admin", userAgent: null, ip: null });
    const bearer = { headers: { authorization: `Bearer ${issued.token}` } };
    const v = await a.request("/api/v1/auths/verify", bearer);
    expect(v.status).toBe(200);
    expect(v.headers.get("x-user-groups")).toBe("support");

    const own = (await (await a.request("/api/v1/groups/", bearer)).json()) as Array<Record<string, unknown>>;
    expect(own.map((g) => g["name"])).toEqual(["support"]);
    expect(Object.keys(own[0]!).sort()).toEqual(["created_at", "data", "description", "id", "member_count", "meta", "name", "permissions", "updated_at", "user_id"]);
    expect(own[0]).toMatchObject({ member_count: 1, description: "Group 'support' created automatically via trusted header.", data: { config: { share: true } } });
    const root = (await a.instance.auth.users.byEmail("root@example.com"))!;
    const adminBearer = { headers: { authorization: `Bearer ${(await a.instance.auth.issuer.issue(root, { method: "admin", userAgent: null, ip: null })).token}` } };
    const all = (await (await a.request("/api/v1/groups/", adminBearer)).json()) as Array<{ name: string }>;
    expect(all.map((g) => g.name).sort()).toEqual(["blocked-keep", "eng", "legacy-7", "ops", "support"]);
    expect((await a.request("/api/v1/groups/")).status).toBe(403);

    const grant = await a.request("/api/v1/gateway/model-access", { ...postJson({ user_id: "group:support", model_id: "gpt-support" }), headers: { ...adminBearer.headers, "content-type": "application/json" } });
    expect(grant.status).toBe(200);
    expect(await a.instance.gateway.access.allows(hank, "gpt-support")).toBe(true);
    const other = (await a.instance.auth.users.byEmail("dana@example.com"))!;
    expect(await a.instance.gateway.access.allows(other, "gpt-support")).toBe(false);
    // Leaving the group takes the model away at once (the sync announces the change).
    await a.instance.groups.sync.syncUserGroups(hank.id, [], { create: false, source: "trusted_header" });
    expect(await a.instance.gateway.access.allows(hank, "gpt-support")).toBe(false);
  });
});
