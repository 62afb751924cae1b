import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeLlm, type FakeLlm } from "../../bench/fake-llm.ts";
import { signUp, startSecurityServer, usersWithEmail, type SecurityServer } from "./security-server.ts";

// Hole 3: requests authenticated by the `token` cookie with an unsafe method need JSON and a same-origin proof.
let s: SecurityServer;
let fake: FakeLlm;
let admin: { token: string; id: string };
let victim: { token: string; id: string };

const CROSS_SITE = { origin: "https://evil.example", "sec-fetch-site": "cross-site" };
/** What a third-party page's form (or no-CORS fetch) makes the admin's browser send. */
const crossSite = (path: string, body: BodyInit, contentType?: string) =>
  fetch(`${s.baseUrl}${path}`, {
    method: "POST",
    headers: { ...CROSS_SITE, cookie: `token=${admin.token}`, ...(contentType ? { "content-type": contentType } : {}) },
    body,
  });
const refused = (r: Response) => r.status === 403 || r.status === 415;
const roleOf = (id: string) => s.gatehouse.services.pool.run("sec-test", async (c) => String((await c`select role from "user" where id = ${id}`)[0]!["role"]));

beforeAll(async () => {
  fake = startFakeLlm({ tokens: 2, intervalMs: 1, firstTokenMs: 1, apiKey: "sk-upstream", models: ["cheap-model", "premium-model"] });
  s = await startSecurityServer("csrf", { OPENAI_API_BASE_URL: fake.url, OPENAI_API_KEY: "sk-upstream" });
  admin = await signUp(s, "admin@example.com");
  victim = await signUp(s, "victim@example.com");
});
afterAll(async () => {
  await s.close();
  await fake.stop();
});

describe("cross-site requests riding the admin's cookie are refused", () => {
  test("urlencoded POST /api/v1/auths/add does not create an admin", async () => {
    const r = await crossSite("/api/v1/auths/add", new URLSearchParams({ name: "Eve", email: "eve@example.com", password: "eve-password-1", role: "admin" }), "application/x-www-form-urlencoded");
    expect({ status: r.status, refused: refused(r) }).toMatchObject({ refused: true });
    expect(await usersWithEmail(s, "eve@example.com")).toBe(0);
  });

  test("multipart POST /api/v1/users/{id}/update does not promote a user", async () => {
    const form = new FormData();
    form.set("role", "admin");
    const r = await crossSite(`/api/v1/users/${victim.id}/update`, form);
    expect({ status: r.status, refused: refused(r) }).toMatchObject({ refused: true });
    expect(await roleOf(victim.id)).toBe("user");
  });

  test("urlencoded POST /api/v1/gateway/model-access grants nothing", async () => {
    const r = await crossSite("/api/v1/gateway/model-access", new URLSearchParams({ user_id: victim.id, model_id: "premium-model" }), "application/x-www-form-urlencoded");
    expect({ status: r.status, refused: refused(r) }).toMatchObject({ refused: true });
    const list = await fetch(`${s.baseUrl}/api/v1/gateway/model-access?user_id=${victim.id}`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(list.status).toBe(200);
    expect(JSON.stringify(await list.json())).not.toContain("premium-model");
  });

  test("text/plain POST /api/v1/auths/api_key creates no key", async () => {
    const r = await crossSite("/api/v1/auths/api_key", "{}", "text/plain");
    expect({ status: r.status, refused: refused(r) }).toMatchObject({ refused: true });
    expect(await r.text()).not.toContain("sk-");
  });

  test("text/plain POST /api/chat/completions spends nothing upstream", async () => {
    const before = fake.stats().chatRequests;
    const r = await crossSite("/api/chat/completions", JSON.stringify({ model: "premium-model", messages: [{ role: "user", content: "hi" }] }), "text/plain");
    expect({ status: r.status, refused: refused(r) }).toMatchObject({ refused: true });
    expect(fake.stats().chatRequests).toBe(before);
  });

  test("even JSON is refused with the cookie when the Origin is foreign; a body-less DELETE needs JSON too", async () => {
    const json = await fetch(`${s.baseUrl}/api/v1/auths/api_key`, { method: "POST", headers: { cookie: `token=${admin.token}`, "content-type": "application/json", origin: "https://evil.example" }, body: "{}" });
    expect(json.status).toBe(403);
    expect(((await json.json()) as { detail: string }).detail).toContain("Cross-site request refused");
    const del = await fetch(`${s.baseUrl}/api/v1/auths/api_key`, { method: "DELETE", headers: { cookie: `token=${admin.token}`, origin: s.origin } });
    expect(del.status).toBe(415);
  });
});

describe("Open WebUI's frontend and API clients keep working", () => {
  test("cookie + JSON from our own origin (Origin or Sec-Fetch-Site) is accepted", async () => {
    const byOrigin = await s.postJson("/api/v1/auths/add", { name: "Ann", email: "ann@example.com", password: "ann-password-1" }, { cookie: `token=${admin.token}`, origin: s.origin });
    expect(byOrigin.status).toBe(200);
    const bySite = await s.postJson("/api/v1/auths/add", { name: "Bo", email: "bo@example.com", password: "bo-password-1" }, { cookie: `token=${admin.token}`, "sec-fetch-site": "same-origin" });
    expect(bySite.status).toBe(200);
  });

  test("Authorization: Bearer is not subject to the guard (no browser attaches it cross-site)", async () => {
    const r = await fetch(`${s.baseUrl}/api/v1/auths/api_key`, { method: "POST", headers: { authorization: `Bearer ${victim.token}`, ...CROSS_SITE, "content-type": "text/plain" }, body: "{}" });
    expect(r.status).toBe(200);
    const key = ((await r.json()) as { api_key: string }).api_key;
    const chat = await fetch(`${s.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${key}` } });
    expect(chat.status).toBe(200);
  });
});

// Last: on unfixed code it signs the admin out everywhere, which would mask the other attacks.
test("text/plain POST /api/v1/auths/signout/everywhere signs nobody out", async () => {
  const r = await crossSite("/api/v1/auths/signout/everywhere", "{}", "text/plain");
  expect({ status: r.status, refused: refused(r) }).toMatchObject({ refused: true });
  const still = await fetch(`${s.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${admin.token}` } });
  expect(still.status).toBe(200);
});
