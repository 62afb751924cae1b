import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { filterQuery, scimOn, TEST_SCIM_TOKEN } from "../helpers/scim-client.ts";

const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
let app: TestApp;
let scim: ReturnType<typeof scimOn>;

beforeAll(async () => {
  app = await startTestApp({
    DATABASE_URL: await freshDatabaseUrl("scim"),
    ENABLE_SCIM: "true", SCIM_TOKEN: TEST_SCIM_TOKEN, SCIM_AUTH_PROVIDER: "oidc",
    ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "info",
  });
  scim = scimOn(app);
  // The first account becomes admin (Open WebUI records an admin as the creator of SCIM groups).
  expect((await app.request("/api/v1/auths/signup", postJson({ name: "Admin", email: "admin@example.com", password: "pw-admin" }))).status).toBe(200);
});
afterAll(async () => {
  await app?.close();
});

describe("Okta's SCIM 2.0 conversation (developer.okta.com SCIM 2.0 reference, request bodies verbatim)", () => {
  test("test connection, lookup, create, read, PUT, PATCH deactivate, group push, rename, membership, delete", async () => {
    // Test connection: GET /Users?startIndex=1&count=2
    let r = await scim("GET", "/Users?startIndex=1&count=2");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], startIndex: 1, itemsPerPage: 1, totalResults: 1 });
    expect(r.contentType).toBe("application/scim+json");

    // Does the user exist? (none yet)
    r = await scim("GET", `/Users${filterQuery('userName eq "test.user@okta.local"', "&startIndex=1&count=100")}`);
    expect(r.body).toMatchObject({ totalResults: 0, Resources: [] });

    // Create
    r = await scim("POST", "/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "test.user@okta.local",
      name: { givenName: "Test", familyName: "User" },
      emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
      displayName: "Test User",
      locale: "en-US",
      externalId: "00ujl29u0le5T6Aj10h7",
      groups: [],
      password: "1mz050nq",
      active: true,
    });
    expect(r.status).toBe(201);
    const id = r.body["id"] as string;
    expect(r.body).toMatchObject({
      userName: "test.user@okta.local", displayName: "Test User", active: true, externalId: "00ujl29u0le5T6Aj10h7",
      emails: [{ value: "test.user@okta.local", primary: true }], meta: { resourceType: "User" },
    });
    expect(JSON.stringify(r.body)).not.toContain("1mz050nq");
    // The same create again is a uniqueness conflict in SCIM's error shape.
    r = await scim("POST", "/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "test.user@okta.local", emails: [{ primary: true, value: "test.user@okta.local", type: "work" }], active: true });
    expect(r).toMatchObject({ status: 409, body: { schemas: [ERROR], status: "409", scimType: "uniqueness" } });

    r = await scim("GET", `/Users${filterQuery('userName eq "test.user@okta.local"', "&startIndex=1&count=100")}`);
    expect(r.body).toMatchObject({ totalResults: 1, itemsPerPage: 1 });
    expect(r.body.Resources![0]!["id"]).toBe(id);
    r = await scim("GET", `/Users${filterQuery('externalId eq "00ujl29u0le5T6Aj10h7"')}`);
    expect(r.body.Resources![0]!["id"]).toBe(id);
    r = await scim("GET", `/Users/${id}`);
    expect(r.body).toMatchObject({ id, userName: "test.user@okta.local", active: true });

    // Update (PUT, the whole profile)
    r = await scim("PUT", `/Users/${id}`, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      id,
      userName: "test.user@okta.local",
      name: { givenName: "Another", middleName: "Excited", familyName: "User" },
      emails: [{ primary: true, value: "test.user@okta.local", type: "work", display: "test.user@okta.local" }],
      active: true,
      groups: [],
      meta: { resourceType: "User" },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: { formatted: "Another User", givenName: "Another", familyName: "User" }, active: true });

    // Group push
    r = await scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Test SCIMv2", members: [] });
    expect(r.status).toBe(201);
    const gid = r.body["id"] as string;
    expect(r.body).toMatchObject({ displayName: "Test SCIMv2", members: [], meta: { resourceType: "Group" } });
    r = await scim("GET", `/Groups${filterQuery('displayName eq "Test SCIMv2"', "&startIndex=1&count=100")}`);
    expect(r.body).toMatchObject({ totalResults: 1 });
    expect(r.body.Resources![0]!["id"]).toBe(gid);
    r = await scim("PATCH", `/Groups/${gid}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", value: { id: gid, displayName: "Test SCIMv20" } }] });
    expect(r).toMatchObject({ status: 200, body: { displayName: "Test SCIMv20" } });
    r = await scim("PATCH", `/Groups/${gid}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [
        { op: "remove", path: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]' },
        { op: "add", path: "members", value: [{ value: id, display: "test.user@okta.local" }] },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body["members"]).toEqual([{ value: id, display: "Another User", $ref: expect.stringContaining(`/Users/${id}`), type: "User" }]);
    r = await scim("GET", `/Users/${id}`);
    expect(r.body["groups"]).toEqual([expect.objectContaining({ value: gid, display: "Test SCIMv20" })]);
    // Full membership push, then AIW's PUT.
    r = await scim("PATCH", `/Groups/${gid}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "members", value: [] }] });
    expect(r.body["members"]).toEqual([]);
    r = await scim("PUT", `/Groups/${gid}`, { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Test SCIMv2", members: [{ value: id, display: "test.user@okta.local" }] });
    expect(r.body).toMatchObject({ displayName: "Test SCIMv2", members: [{ value: id }] });

    // Deactivate
    r = await scim("PATCH", `/Users/${id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", value: { active: false } }] });
    expect(r).toMatchObject({ status: 200, body: { id, active: false } });
    r = await scim("PATCH", `/Users/${id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", value: { active: true } }] });
    expect(r.body["active"]).toBe(true);

    // Unlink with "Delete the group in the target app"
    r = await scim("DELETE", `/Groups/${gid}`);
    expect(r.status).toBe(204);
    expect((await scim("GET", `/Groups/${gid}`)).status).toBe(404);

    // Open WebUI reads the same row: scim column as it stores it.
    const [row] = await app.services.pool.run("test.scim_row", (c) => c`select scim, role from "user" where id = ${id}`);
    expect(row).toEqual({ scim: { oidc: { external_id: "00ujl29u0le5T6Aj10h7" } }, role: "user" });
  });
});

describe("Microsoft Entra ID's SCIM conversation (learn.microsoft.com 'use SCIM to provision users and groups', bodies verbatim)", () => {
  test("create, query, multi- and single-valued PATCH, disable (boolean and \"False\"), groups, delete", async () => {
    let r = await scim("GET", `/Users${filterQuery('userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"')}`);
    expect(r.body).toMatchObject({ totalResults: 0, Resources: [] });
    r = await scim("POST", "/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      userName: "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
      active: true,
      emails: [{ primary: true, type: "work", value: "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com" }],
      meta: { resourceType: "User" },
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      roles: [],
    });
    expect(r.status).toBe(201);
    const id = r.body["id"] as string;
    expect(r.body).toMatchObject({
      userName: "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee", externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", active: true,
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      emails: [{ value: "test_user_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com", type: "work", primary: true }],
    });
    r = await scim("GET", `/Users${filterQuery('userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"')}`);
    expect(r.body).toMatchObject({ totalResults: 1 });
    expect(r.body.Resources![0]!["id"]).toBe(id);
    r = await scim("GET", `/Users${filterQuery('emails[type eq "work"].value eq "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"')}`);
    expect(r.body.Resources?.map((u) => u["id"])).toEqual([id]);
    r = await scim("GET", `/Users${filterQuery('userName eq "non-existent user"')}`);
    expect(r.body).toMatchObject({ totalResults: 0, Resources: [], startIndex: 1 });
    r = await scim("GET", "/Users/5171a35d82074e068ce2");
    expect(r).toMatchObject({ status: 404, body: { schemas: [ERROR], status: "404" } });

    // Update User [Multi-valued properties]
    r = await scim("PATCH", `/Users/${id}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [
        { op: "Replace", path: 'emails[type eq "work"].value', value: "updatedEmail@microsoft.com" },
        { op: "Replace", path: "name.familyName", value: "updatedFamilyName" },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: { formatted: "givenName updatedFamilyName", familyName: "updatedFamilyName", givenName: "givenName" }, emails: [{ value: "updatedemail@microsoft.com" }] });
    // Update User [Single-valued properties]
    r = await scim("PATCH", `/Users/${id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Replace", path: "userName", value: "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" }] });
    expect(r.body).toMatchObject({ userName: "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com", emails: [{ value: "updatedemail@microsoft.com" }] });

    // Groups: created empty, read without members, found by displayName, renamed, members added and removed.
    r = await scim("POST", "/Groups", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      displayName: "displayName",
      meta: { resourceType: "Group" },
    });
    expect(r).toMatchObject({ status: 201, body: { externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", displayName: "displayName", members: [] } });
    const gid = r.body["id"] as string;
    r = await scim("GET", `/Groups/${gid}?excludedAttributes=members`);
    expect(r.body).toMatchObject({ id: gid, externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", displayName: "displayName" });
    expect("members" in r.body).toBe(false);
    r = await scim("GET", `/Groups?excludedAttributes=members&${filterQuery('displayName eq "displayName"').slice(1)}`);
    expect(r.body).toMatchObject({ totalResults: 1 });
    r = await scim("PATCH", `/Groups/${gid}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Replace", path: "displayName", value: "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" }] });
    expect(r.body["displayName"]).toBe("1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");
    r = await scim("PATCH", `/Groups/${gid}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Add", path: "members", value: [{ $ref: null, value: id }] }] });
    expect(r.body["members"]).toEqual([expect.objectContaining({ value: id })]);
    r = await scim("PATCH", `/Groups/${gid}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Remove", path: "members", value: [{ $ref: null, value: id }] }] });
    expect(r.body["members"]).toEqual([]);

    // Disable User: the documented boolean, then the string form Entra ID also sends.
    r = await scim("PATCH", `/Users/${id}`, { Operations: [{ op: "Replace", path: "active", value: false }], schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"] });
    expect(r.body["active"]).toBe(false);
    r = await scim("PATCH", `/Users/${id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Replace", path: "active", value: "True" }] });
    expect(r.body["active"]).toBe(true);
    r = await scim("PATCH", `/Users/${id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Replace", path: "active", value: "False" }] });
    expect(r.body["active"]).toBe(false);

    expect((await scim("DELETE", `/Groups/${gid}`)).status).toBe(204);
    expect((await scim("DELETE", `/Users/${id}`)).status).toBe(204);
    expect((await scim("GET", `/Users/${id}`)).status).toBe(404);
    expect((await scim("DELETE", `/Users/${id}`)).status).toBe(404);
  });
});

describe("SCIM deprovisioning and errors", () => {
  test("active:false ends the user's tokens, API key and password sign-in; DELETE removes the account", async () => {
    const email = "worker@example.com";
    const su = await app.request("/api/v1/auths/signup", postJson({ name: "Worker", email, password: "pw-worker" }));
    const { token } = (await su.json()) as { token: string };
    const keyRes = await app.request("/api/v1/auths/api_key", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
    expect(keyRes.status).toBe(200);
    const apiKey = ((await keyRes.json()) as { api_key: string }).api_key;
    const me = (cred: string) => app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${cred}` } });
    expect((await me(token)).status).toBe(200);
    expect((await me(apiKey)).status).toBe(200);

    const found = await scim("GET", `/Users${filterQuery(`userName eq "${email.toUpperCase()}"`)}`);
    const id = found.body.Resources![0]!["id"] as string;
    const r = await scim("PATCH", `/Users/${id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Replace", path: "active", value: "False" }] });
    expect(r.body["active"]).toBe(false);
    expect((await me(token)).status).toBe(401);
    expect((await me(apiKey)).status).toBe(401);
    const signin = await app.request("/api/v1/auths/signin", postJson({ email, password: "pw-worker" }));
    expect(signin.status).toBe(400);

    expect((await scim("DELETE", `/Users/${id}`)).status).toBe(204);
    const [n] = await app.services.pool.run("test.count", (c) => c`select count(*)::int as n from "user" where id = ${id}`);
    expect(n!["n"]).toBe(0);
  });

  test("wrong or missing token → 401 in SCIM's error shape; malformed filters and bodies → 400; unknown → 404", async () => {
    for (const auth of [undefined, "Bearer wrong-token-wrong-token-00", `Basic ${btoa(`x:${TEST_SCIM_TOKEN}`)}`, "Bearer"]) {
      const res = await app.request("/api/v1/scim/v2/Users", { headers: auth ? { authorization: auth } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/scim+json");
      expect(await res.json()).toMatchObject({ schemas: [ERROR], status: "401" });
    }
    const bad = (r: { status: number; body: Record<string, unknown> }, scimType: string) => expect(r).toMatchObject({ status: 400, body: { schemas: [ERROR], status: "400", scimType } });
    for (const f of ['userName co "x"', 'userName eq "a" or userName eq "b"', "userName eq x", 'title eq "x"', 'userName eq "unterminated', "(", 'emails[type eq "home"].value eq "a"']) {
      bad(await scim("GET", `/Users${filterQuery(f)}`), "invalidFilter");
    }
    bad(await scim("GET", `/Groups${filterQuery('displayName sw "x"')}`), "invalidFilter");
    bad(await scim("GET", "/Users?startIndex=abc"), "invalidValue");
    bad(await scim("POST", "/Users", "{not json"), "invalidSyntax");
    bad(await scim("POST", "/Users", "[]"), "invalidSyntax");
    bad(await scim("POST", "/Users", { userName: 42 }), "invalidValue");
    bad(await scim("POST", "/Users", { emails: [{ value: "no-username@example.com" }] }), "invalidValue");
    bad(await scim("POST", "/Groups", { displayName: "" }), "invalidValue");
    bad(await scim("POST", "/Groups", { displayName: "g", members: [{ display: "no value" }] }), "invalidValue");
    const uid = (await scim("GET", "/Users?count=1")).body.Resources![0]!["id"] as string;
    bad(await scim("PATCH", `/Users/${uid}`, { Operations: "replace" }), "invalidSyntax");
    bad(await scim("PATCH", `/Users/${uid}`, { Operations: [{ op: "move", path: "active", value: true }] }), "invalidSyntax");
    bad(await scim("PATCH", `/Users/${uid}`, { Operations: [{ op: "replace", path: "active", value: "maybe" }] }), "invalidValue");
    bad(await scim("PATCH", `/Users/${uid}`, { Operations: [{ op: "replace", value: "not an object" }] }), "invalidValue");
    bad(await scim("PATCH", `/Users/${uid}`, { Operations: [{ op: "replace", path: "displayName", value: "nul\u0000byte" }] }), "invalidValue");
    const g = await scim("POST", "/Groups", { displayName: "errors" });
    bad(await scim("PATCH", `/Groups/${g.body["id"]}`, { Operations: [{ op: "replace", path: "owner", value: "x" }] }), "invalidPath");
    bad(await scim("PATCH", `/Groups/${g.body["id"]}`, { Operations: [{ op: "remove" }] }), "noTarget");
    expect((await scim("GET", "/Nope")).status).toBe(404);
    expect((await scim("GET", "/Nope")).body).toMatchObject({ schemas: [ERROR], status: "404" });
    expect((await scim("GET", "/Users/does-not-exist")).status).toBe(404);
  });

  test("discovery endpoints, pagination, metrics and audit lines (never the token)", async () => {
    const spc = await scim("GET", "/ServiceProviderConfig");
    expect(spc.body).toMatchObject({ patch: { supported: true }, filter: { supported: true, maxResults: 200 }, bulk: { supported: false } });
    const types = await scim("GET", "/ResourceTypes");
    expect((types.body.Resources ?? []).map((t) => t["id"])).toEqual(["User", "Group"]);
    expect((await scim("GET", "/ResourceTypes/Group")).body).toMatchObject({ endpoint: "/Groups" });
    const schemas = await scim("GET", "/Schemas");
    expect((schemas.body.Resources ?? []).map((t) => t["id"])).toEqual(["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"]);

    for (let i = 0; i < 3; i++) await scim("POST", "/Users", { userName: `page${i}@example.com` });
    const all = await scim("GET", "/Users?startIndex=1&count=200");
    const total = all.body["totalResults"] as number;
    const p2 = await scim("GET", "/Users?startIndex=2&count=2");
    expect(p2.body).toMatchObject({ totalResults: total, startIndex: 2, itemsPerPage: 2 });
    expect(p2.body.Resources!.map((u) => u["id"])).toEqual(all.body.Resources!.slice(1, 3).map((u) => u["id"]));
    expect((await scim("GET", "/Users?count=0")).body).toMatchObject({ totalResults: total, itemsPerPage: 0, Resources: [] });
    expect((await scim("GET", "/Users?startIndex=0&count=1")).body).toMatchObject({ startIndex: 1, itemsPerPage: 1 });

    const metrics = await (await app.request("/metrics")).text();
    expect(metrics).toMatch(/gatehouse_scim_requests_total\{resource="Users",op="create",status="201"\} [1-9]/);
    expect(metrics).toMatch(/gatehouse_scim_requests_total\{resource="Users",op="list",status="401"\} [1-9]/);
    expect(metrics).toMatch(/gatehouse_scim_requests_total\{resource="Users",op="list",status="400"\} [1-9]/);
    const log = app.logText();
    expect(log).toContain('"audit":"scim"');
    expect(log).toContain('"audit":"group_change"');
    expect(log).toContain('"deprovisioned":true');
    expect(log).not.toContain(TEST_SCIM_TOKEN);
  });
});
