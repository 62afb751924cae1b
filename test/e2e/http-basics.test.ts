import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { sample } from "../helpers/metrics-text.ts";

let app: TestApp;

// A route that parses JSON and one that throws, to exercise the global error handling.
const probe = new Elysia()
  .post("/test/echo", ({ body }) => body, { body: t.Object({ name: t.String() }) })
  .get("/test/boom", () => {
    throw new Error("secret internals: password=hunter2");
  })
  .get("/test/db-twice", async () => {
    await app.services.pool.run("test.one", async (c) => c`select 1`);
    await app.services.pool.run("test.two", async (c) => c`select 2`);
    return { ok: true };
  });

beforeAll(async () => {
  app = await startTestApp(
    { DATABASE_URL: await freshDatabaseUrl("http"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("http") },
    [probe],
  );
});
afterAll(async () => {
  await app.close();
});

describe("health endpoints", () => {
  test("/health", async () => {
    const r = await app.request("/health");
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: true });
  });
  test("/livez makes no database checkout", async () => {
    const r = await app.request("/livez");
    expect(r.status).toBe(200);
    expect(r.headers.get("server-timing")).toBe("db;dur=0.00");
  });
  test("/health/db checks Postgres", async () => {
    const r = await app.request("/health/db");
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: true });
    expect(r.headers.get("server-timing")).toMatch(/^db;dur=\d+\.\d\d$/);
  });
  test("/readyz checks Postgres and Redis", async () => {
    const r = await app.request("/readyz");
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: true, checks: { postgres: "ok", store: "ok" } });
  });
});

describe("errors are always {detail}", () => {
  test("unknown route → 404 Not Found", async () => {
    const r = await app.request("/nope/at/all");
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ detail: "Not Found" });
  });
  test("malformed JSON → 400 with a detail", async () => {
    const r = await app.request("/test/echo", { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { detail: string };
    expect(typeof body.detail).toBe("string");
    expect(body.detail).toContain("JSON");
  });
  test("wrong field type → 422 naming the field", async () => {
    const r = await app.request("/test/echo", { method: "POST", headers: { "content-type": "application/json" }, body: '{"name": 5}' });
    expect(r.status).toBe(422);
    expect(((await r.json()) as { detail: string }).detail).toContain("name");
  });
  test("an unexpected error → 500 without internals", async () => {
    const r = await app.request("/test/boom");
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(JSON.parse(text)).toEqual({ detail: "Internal Server Error" });
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("at ");
  });
});

describe("/metrics", () => {
  test("process metrics and pool metrics, with per-request accounting by route template", async () => {
    await app.request("/test/db-twice");
    await app.request("/test/db-twice");
    const r = await app.request("/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/plain");
    const text = await r.text();
    expect(sample(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(sample(text, "gatehouse_db_checkout_wait_seconds_count", { op: "test.one" })).toBe(2);
    expect(sample(text, "gatehouse_db_checkout_hold_seconds_count", { op: "test.two" })).toBe(2);
    expect(sample(text, "gatehouse_db_request_checkouts_count", { route: "/test/db-twice" })).toBe(2);
    expect(sample(text, "gatehouse_db_request_checkouts_sum", { route: "/test/db-twice" })).toBe(4);
    expect(sample(text, "gatehouse_db_request_wait_seconds_count", { route: "/test/db-twice" })).toBe(2);
    expect(sample(text, "gatehouse_db_pool_connections", { state: "active" })).toBe(0);
    expect(sample(text, "gatehouse_db_pool_connections", { state: "idle" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "gatehouse_db_pool_max_connections")).toBe(15);
    // Unmatched paths never become labels.
    expect(text).not.toContain("/nope/at/all");
  });
});
