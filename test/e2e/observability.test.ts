import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { sample } from "../helpers/metrics-text.ts";
import { startRedis, type RedisHandle } from "../harness/services.ts";
import { waitFor } from "../helpers/wait.ts";

const PASSWORD = "observability-horse-battery";
let a: TestApp;
let b: TestApp;
let token = "";

const metrics = async (app: TestApp) => (await app.request("/metrics")).text();
const lines = (app: TestApp) =>
  app.logText().split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  const shared = {
    DATABASE_URL: await freshDatabaseUrl("observability"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("observability"),
  };
  a = await startTestApp(shared);
  b = await startTestApp(shared);
  const r = await a.request("/api/v1/auths/signup", postJson({ name: "Olga", email: "olga@example.com", password: PASSWORD }));
  expect(r.status).toBe(200);
  token = ((await r.json()) as { token: string }).token;
});
afterAll(async () => {
  await a.close();
  await b.close();
});

describe("request ids", () => {
  test("a well-formed X-Request-Id is echoed; a malformed or missing one is replaced by a UUID", async () => {
    const kept = await a.request("/health", { headers: { "x-request-id": "edge-7f3a.42" } });
    expect(kept.headers.get("x-request-id")).toBe("edge-7f3a.42");
    const odd = await a.request("/health", { headers: { "x-request-id": "has spaces and \"quotes\"" } });
    expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const none = await a.request("/health");
    const generated = none.headers.get("x-request-id");
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated).not.toBe(odd.headers.get("x-request-id"));
  });

  test("every line logged while serving a request carries its reqId (the audit line of a failed sign-in)", async () => {
    const r = await a.request("/api/v1/auths/signin", {
      ...postJson({ email: "olga@example.com", password: "wrong-password" }),
      headers: { "content-type": "application/json", "x-request-id": "req-signin-failure" },
    });
    expect(r.status).toBe(400);
    const audit = lines(a).find((l) => l["audit"] === "signin" && l["outcome"] === "failure");
    expect(audit).toMatchObject({ reqId: "req-signin-failure", email: "olga@example.com", reason: "password", level: 40 });
    const access = lines(a).find((l) => l["msg"] === "request" && l["reqId"] === "req-signin-failure");
    expect(access).toMatchObject({ method: "POST", route: "/api/v1/auths/signin", status: 400 });
    expect(typeof access?.["ms"]).toBe("number");
  });

  test("access lines name the route template, never the raw path or query", async () => {
    const r = await a.request("/api/v1/auths/sessions/secret-looking-id-123?token=query-token-value", {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}`, "x-request-id": "req-template" },
    });
    expect(r.status).toBe(404);
    const access = lines(a).find((l) => l["reqId"] === "req-template" && l["msg"] === "request");
    expect(access).toMatchObject({ route: "/api/v1/auths/sessions/:id", status: 404 });
    expect(a.logText()).not.toContain("secret-looking-id-123");
    expect(a.logText()).not.toContain("query-token-value");
  });
});

describe("metrics", () => {
  test("requests are counted by method, route template and status", async () => {
    const before = sample(await metrics(a), "gatehouse_http_requests_total", { method: "GET", route: "/api/v1/auths/", status: "200" }) ?? 0;
    for (let i = 0; i < 3; i++) expect((await a.request("/api/v1/auths/", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const text = await metrics(a);
    expect(sample(text, "gatehouse_http_requests_total", { method: "GET", route: "/api/v1/auths/", status: "200" })).toBe(before + 3);
    expect(sample(text, "gatehouse_http_request_duration_seconds_count", { method: "GET", route: "/api/v1/auths/" })).toBeGreaterThanOrEqual(before + 3);
    expect(sample(text, "gatehouse_http_requests_total", { method: "POST", route: "/api/v1/auths/signin", status: "400" })).toBe(1);
  });

  test("auth events are counted by event and outcome, and refused tokens are audited", async () => {
    expect((await a.request("/api/v1/auths/", { headers: { authorization: "Bearer not-a-token" } })).status).toBe(401);
    const text = await metrics(a);
    expect(sample(text, "gatehouse_auth_events_total", { event: "signup", outcome: "success" })).toBe(1);
    expect(sample(text, "gatehouse_auth_events_total", { event: "signin", outcome: "failure" })).toBe(1);
    expect(sample(text, "gatehouse_auth_events_total", { event: "token", outcome: "refused" })).toBeGreaterThanOrEqual(1);
    const refused = lines(a).find((l) => l["audit"] === "token" && l["outcome"] === "refused");
    expect(refused).toMatchObject({ via: "jwt" });
    expect(typeof refused?.["reason"]).toBe("string");
  });

  test("a sign-out on A is audited there, and B times the revocation's propagation (A does not time its own)", async () => {
    const s = await a.request("/api/v1/auths/signin", postJson({ email: "olga@example.com", password: PASSWORD }));
    const second = ((await s.json()) as { token: string }).token;
    const countOn = async (app: TestApp) => sample(await metrics(app), "gatehouse_revocation_propagation_seconds_count") ?? 0;
    const bBefore = await countOn(b);
    expect((await a.request("/api/v1/auths/signout", { method: "POST", headers: { authorization: `Bearer ${second}` } })).status).toBe(200);
    const bAfter = await waitFor("B to time the revocation", async () => {
      const n = await countOn(b);
      return n !== bBefore ? n : undefined;
    }, 2000);
    expect(bAfter).toBe(bBefore + 1);
    expect(await countOn(a)).toBe(0);
    expect(sample(await metrics(a), "gatehouse_auth_events_total", { event: "signout", outcome: "success" })).toBe(1);
    expect(sample(await metrics(a), "gatehouse_auth_events_total", { event: "revocation", outcome: "success" })).toBe(1);
    expect((await b.request("/api/v1/auths/", { headers: { authorization: `Bearer ${second}` } })).status).toBe(401);
  });
});

describe("store health", () => {
  let redis: RedisHandle;
  let app: TestApp;
  beforeAll(async () => {
    redis = await startRedis();
    app = await startTestApp({ DATABASE_URL: await freshDatabaseUrl("observability_store"), REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix("obs-store") });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  test("gatehouse_store_up is 1 while Redis answers and 0 once it is gone; failed commands are counted", async () => {
    let text = await metrics(app);
    expect(sample(text, "gatehouse_store_up")).toBe(1);
    expect(sample(text, "gatehouse_store_errors_total")).toBe(0);
    await redis.stop();
    // A store command now fails with the typed error, and is counted.
    await expect(app.services.store.get("any-key")).rejects.toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
    text = await metrics(app);
    expect(sample(text, "gatehouse_store_up")).toBe(0);
    expect(sample(text, "gatehouse_store_errors_total")).toBeGreaterThanOrEqual(1);
  });
});

describe("access log switch", () => {
  test("GATEHOUSE_ACCESS_LOG=false writes no access lines but still echoes request ids and counts requests", async () => {
    const quiet = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("observability_quiet"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("obs-quiet"), GATEHOUSE_ACCESS_LOG: "false",
    });
    try {
      const r = await quiet.request("/api/v1/auths/signup", postJson({ name: "Q", email: "q@example.com", password: PASSWORD }));
      expect(r.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines(quiet).some((l) => l["msg"] === "request")).toBe(false);
      expect(sample(await metrics(quiet), "gatehouse_http_requests_total", { route: "/api/v1/auths/signup", status: "200" })).toBe(1);
    } finally {
      await quiet.close();
    }
  });
});
