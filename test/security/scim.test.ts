import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { filterQuery, scimOn, TEST_SCIM_TOKEN } from "../helpers/scim-client.ts";

const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
let app: TestApp;
let scim: ReturnType<typeof scimOn>;
let adminToken: string;

beforeAll(async () => {
  app = await startTestApp({ DATABASE_URL: await freshDatabaseUrl("scim_attacks"), ENABLE_SCIM: "true", SCIM_TOKEN: TEST_SCIM_TOKEN, ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user" });
  scim = scimOn(app);
  adminToken = ((await (await app.request("/api/v1/auths/signup", postJson({ name: "Admin", email: "admin@example.com", password: "pw" }))).json()) as { token: string }).token;
  for (const n of ["alice", "bob"]) expect((await scim("POST", "/Users", { userName: `${n}@example.com` })).status).toBe(201);
});
afterAll(async () => {
  await app?.close();
});

describe("SCIM attacks", () => {
  test("forged bearer tokens: near misses, prefixes, extensions, other credentials and other places are all 401", async () => {
    const t = TEST_SCIM_TOKEN;
    const forged = [
      t.slice(0, -1) + (t.endsWith("f") ? "e" : "f"), t.slice(0, -1), t + "0", t.toUpperCase(), ` ${t}x`, adminToken, "", "\t",
    ];
    for (const f of forged) {
      const r = await scimOn(app, f)("GET", "/Users");
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ schemas: [ERROR], status: "401" });
    }
    // The token counts only as an Authorization bearer: not in the query, a cookie or another header.
    for (const init of [{}, { headers: { cookie: `token=${t}` } }, { headers: { "x-api-key": t } }] as RequestInit[]) {
      expect((await app.request(`/api/v1/scim/v2/Users?access_token=${t}`, init)).status).toBe(401);
    }
    // And the SCIM token is no session credential.
    expect((await app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${t}` } })).status).toBe(401);
    expect(app.logText()).not.toContain(t);
  });

  test("filter injection: quotes, boolean operators, SQL and LIKE wildcards match nothing or are refused", async () => {
    const refused = [
      'userName eq "alice@example.com" or userName pr',
      'userName eq "alice@example.com" or userName eq "bob@example.com"',
      'userName eq "x" or "1" eq "1"',
      'userName eq alice@example.com',
      "userName eq 'alice@example.com'",
      'userName eq "alice@example.com"]',
      `userName eq "${"\\\\".repeat(600)}"`,
      'userName eq "a"'.padEnd(5000, " ") + "x",
    ];
    for (const f of refused) {
      const r = await scim("GET", `/Users${filterQuery(f)}`);
      expect(r).toMatchObject({ status: 400, body: { schemas: [ERROR], scimType: "invalidFilter" } });
    }
    for (const f of ['userName eq "alice@example.com\\" or \\"1\\"=\\"1"', "userName eq \"' OR '1'='1' --\"", 'userName eq "%"', 'userName eq "_lice@example.com"', 'externalId eq "%"', 'id eq "\' or 1=1"']) {
      const r = await scim("GET", `/Users${filterQuery(f)}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ totalResults: 0, Resources: [] });
    }
    const all = await scim("GET", "/Users");
    expect(all.body["totalResults"]).toBe(3);
  });

  test("oversized, deeply nested and flooding bodies are refused with 4xx in SCIM's shape, never a 500", async () => {
    const big = JSON.stringify({ userName: "big@example.com", displayName: "x".repeat(300 * 1024) });
    let r = await scim("POST", "/Users", big);
    expect(r).toMatchObject({ status: 413, body: { schemas: [ERROR], status: "413" } });
    // Without Content-Length (chunked): cut at the cap while streaming.
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        const part = new TextEncoder().encode("x".repeat(64 * 1024));
        c.enqueue(new TextEncoder().encode('{"userName":"stream@example.com","displayName":"'));
        for (let i = 0; i < 6; i++) c.enqueue(part);
        c.enqueue(new TextEncoder().encode('"}'));
        c.close();
      },
    });
    const res = await app.request("/api/v1/scim/v2/Users", { method: "POST", headers: { authorization: `Bearer ${TEST_SCIM_TOKEN}`, "content-type": "application/scim+json" }, body: chunks, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    r = await scim("POST", "/Users", "[".repeat(100_000) + "]".repeat(100_000));
    expect(r.status).toBe(400);
    r = await scim("POST", "/Users", `{"userName":"deep@example.com","name":${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}}`);
    expect(r.status).toBeLessThan(500);
    const uid = (await scim("GET", `/Users${filterQuery('userName eq "alice@example.com"')}`)).body.Resources![0]!["id"] as string;
    r = await scim("PATCH", `/Users/${uid}`, { Operations: Array.from({ length: 1001 }, () => ({ op: "replace", path: "displayName", value: "x" })) });
    expect(r).toMatchObject({ status: 400, body: { scimType: "tooMany" } });
    r = await scim("POST", "/Users", { userName: "\ud800@example.com" });
    expect(r.status).toBeLessThan(500);
  });

  test("mass assignment: a provisioning client cannot make an admin, choose ids or touch other users' rows", async () => {
    let r = await scim("POST", "/Users", { userName: "mallory@example.com", id: "chosen-id", role: "admin", roles: [{ value: "admin", primary: true }], meta: { created: "1970-01-01" } });
    expect(r.status).toBe(201);
    const id = r.body["id"] as string;
    expect(id).not.toBe("chosen-id");
    r = await scim("PATCH", `/Users/${id}`, { Operations: [{ op: "replace", path: "role", value: "admin" }, { op: "replace", value: { roles: [{ value: "admin" }], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { manager: { value: "x" } } } }, { op: "add", path: "id", value: "other" }] });
    expect(r.status).toBe(200);
    const [row] = await app.services.pool.run("test.role", (c) => c`select id, role from "user" where lower(email) = 'mallory@example.com'`);
    expect(row).toEqual({ id, role: "user" });
    // Taking another user's email through PATCH or PUT is a conflict, not a takeover.
    r = await scim("PATCH", `/Users/${id}`, { Operations: [{ op: "replace", path: 'emails[type eq "work"].value', value: "ADMIN@example.com" }] });
    expect(r).toMatchObject({ status: 409, body: { scimType: "uniqueness" } });
    r = await scim("PUT", `/Users/${id}`, { userName: "mallory@example.com", emails: [{ value: "bob@example.com", primary: true }] });
    expect(r.status).toBe(409);
    // Members that are not users are ignored, never inserted.
    const g = await scim("POST", "/Groups", { displayName: "attack", members: [{ value: "' or 1=1 --" }, { value: id }] });
    expect(g.body["members"]).toEqual([expect.objectContaining({ value: id })]);
  });

  test("with ENABLE_SCIM off, even the right token is refused (403) and nothing is read", async () => {
    const off = await startTestApp({ DATABASE_URL: await freshDatabaseUrl("scim_off"), SCIM_TOKEN: TEST_SCIM_TOKEN });
    try {
      const r = await scimOn(off)("GET", "/Users");
      expect(r).toMatchObject({ status: 403, body: { schemas: [ERROR], status: "403" } });
      expect((await scimOn(off)("POST", "/Users", { userName: "x@example.com" })).status).toBe(403);
    } finally {
      await off.close();
    }
  });
});
