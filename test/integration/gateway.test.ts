import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StrictPool } from "../../src/db/pool.ts";
import { migrate } from "../../src/db/migrate.ts";
import { ModelAccessRepo } from "../../src/db/repos/model-access.ts";
import { UsageRepo, type UsageRecord } from "../../src/db/repos/usage.ts";
import type { UserRecord } from "../../src/db/repos/users.ts";
import { RedisStore } from "../../src/kv/redis.ts";
import { createRegistry } from "../../src/observability/registry.ts";
import { createDbMetrics } from "../../src/observability/db-metrics.ts";
import { createGatewayMetrics } from "../../src/gateway/gateway-metrics.ts";
import { ModelAccess } from "../../src/gateway/model-access.ts";
import { UsageRecorder } from "../../src/gateway/usage-recorder.ts";
import { SseScanner } from "../../src/gateway/sse.ts";
import { ModelDirectory, upstreamsFrom } from "../../src/gateway/upstreams.ts";
import { parseChatRequest } from "../../src/gateway/gateway.ts";
import { UpstreamStatusError } from "../../src/gateway/gateway-errors.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { sample } from "../helpers/metrics-text.ts";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startFakeLlm } from "../../bench/fake-llm.ts";

const enc = new TextEncoder();

describe("SseScanner", () => {
  const scan = (...chunks: string[]) => {
    const s = new SseScanner();
    for (const c of chunks) s.push(enc.encode(c));
    return s;
  };

  test("events split anywhere across chunks, LF or CRLF, comments and other fields ignored", () => {
    const text = ': keep-alive\r\nevent: message\r\ndata: {"choices":[]}\r\n\r\ndata: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}\n\ndata: [DONE]\n\n';
    for (let cut = 0; cut <= text.length; cut += 7) {
      const s = scan(text.slice(0, cut), text.slice(cut));
      expect(s.events).toBe(3);
      expect(s.sawDone).toBe(true);
      expect(s.usage).toEqual({ promptTokens: 3, completionTokens: 9 });
      expect(s.malformed).toBeNull();
    }
  });

  test("a multi-byte character split between chunks is decoded whole", () => {
    const bytes = enc.encode('data: {"c":"é"}\n\n');
    const s = new SseScanner();
    s.push(bytes.subarray(0, 13));
    s.push(bytes.subarray(13));
    expect(s.events).toBe(1);
    expect(s.malformed).toBeNull();
  });

  test("multi-line data is joined; an error event is picked up; bad data is flagged", () => {
    expect(scan('data: {"a":\ndata: 1}\n\n').malformed).toBeNull();
    expect(scan('data: {"error":{"message":"overloaded"}}\n\n').upstreamError).toBe("overloaded");
    expect(scan("data: {nope\n\n").malformed).toBe("event 1 is not valid JSON");
    expect(scan('data: {"a":1}\n\n', "data: hello\n\n").malformed).toBe("event 2 is not a JSON object");
    expect(scan("data: [1,2]\n\n").malformed).toBe("event 1 is not a JSON object");
  });

  test("usage that is not a non-negative integer is ignored", () => {
    expect(scan('data: {"usage":{"prompt_tokens":-1,"completion_tokens":"9"}}\n\n').usage).toBeNull();
  });
});

describe("parseChatRequest", () => {
  test("reads model and stream, refuses what cannot be routed", () => {
    expect(parseChatRequest(enc.encode('{"model":"m","stream":true}'))).toMatchObject({ model: "m", stream: true });
    expect(parseChatRequest(enc.encode('{"model":"m"}'))).toMatchObject({ model: "m", stream: false });
    const bad = [
      "[]", '"m"', "{}", '{"model":""}', '{"model":3}', '{"model":"m","stream":1}', "{",
      '{"model":"m","model":"n"}', '{"model":"m","MODEL":"n"}', '{"model":"m","Stream":true}', '{"model":"m","x":{"a":1,"\\u0061":2}}',
    ];
    for (const b of bad) expect(() => parseChatRequest(enc.encode(b))).toThrow();
    // Same key names in different objects, keys inside strings and arrays are no duplicates.
    const ok = '{"model":"m","messages":[{"role":"user","content":"{\\"model\\":1,\\"model\\":2}"},{"role":"user","content":"x"}],"x":{"model":1}}';
    expect(new TextDecoder().decode(parseChatRequest(enc.encode(ok)).body)).toBe(JSON.stringify(JSON.parse(ok)));
  });
});

describe("upstream status mapping", () => {
  test("5xx and auth failures → 502, 504/408 → 504, the client's own errors keep their status", () => {
    const status = (s: number) => new UpstreamStatusError(s, null).status;
    expect([500, 502, 503, 401, 403].map(status)).toEqual([502, 502, 502, 502, 502]);
    expect([504, 408].map(status)).toEqual([504, 504]);
    expect([400, 404, 413, 422, 429].map(status)).toEqual([400, 404, 413, 422, 429]);
    expect(new UpstreamStatusError(500, "x".repeat(500)).message.length).toBeLessThan(260);
  });
});

describe("with a real Postgres and Redis", () => {
  let pool: StrictPool;
  let registry: ReturnType<typeof createRegistry>;
  const stores: RedisStore[] = [];
  const user = (id: string, role: UserRecord["role"] = "user"): UserRecord => ({
    id, email: `${id}@example.com`, name: id, role, profile_image_url: null, oauth: null, last_active_at: null, created_at: null, updated_at: null,
  });
  const store = async (prefix: string) => {
    const s = new RedisStore({ url: await redisUrl(), sentinelHosts: [], sentinelPort: 26379, sentinelMaxRetryCount: 2, cluster: false, prefix });
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    registry = createRegistry({ defaultMetrics: false });
    pool = new StrictPool(
      { url: await freshDatabaseUrl("gateway_int"), max: 2, timeoutMs: 5000, maxWaiters: 1000, leakThresholdMs: 60_000, prepare: true },
      createDbMetrics(registry),
      captureLogger().log,
    );
    await migrate(pool);
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await pool.close(1);
  });

  const checkouts = async (op: string) => sample(await registry.metrics(), "gatehouse_db_checkout_wait_seconds_count", { op }) ?? 0;

  test("model access: 100 concurrent cold lookups for one user share one checkout; admins need none", async () => {
    const repo = new ModelAccessRepo(pool);
    await repo.grant("carol", "m1", null);
    const access = new ModelAccess(repo, await store(uniquePrefix("access")));
    const before = await checkouts("model_access.for_user");
    const all = await Promise.all(Array.from({ length: 100 }, () => access.allows(user("carol"), "m1")));
    expect(all.every(Boolean)).toBe(true);
    expect(await access.allows(user("carol"), "m2")).toBe(false);
    expect(await access.allows(user("root", "admin"), "anything")).toBe(true);
    expect((await checkouts("model_access.for_user")) - before).toBe(1);
  });

  test("model access: a change on one instance reaches another through pub/sub", async () => {
    const prefix = uniquePrefix("access2");
    const repo = new ModelAccessRepo(pool);
    const a = new ModelAccess(repo, await store(prefix));
    const b = new ModelAccess(repo, await store(prefix));
    await a.start();
    await b.start();
    try {
      expect(await b.allows(user("dave"), "m1")).toBe(false);
      await repo.grant("dave", "m1", null);
      await a.invalidate("dave");
      const deadline = Date.now() + 3000;
      while (!(await b.allows(user("dave"), "m1"))) {
        if (Date.now() > deadline) throw new Error("instance b never saw the grant");
        await Bun.sleep(20);
      }
      // A grant of every model (model_id "*") to every user (user_id "*").
      await repo.grant("*", "*", null);
      await a.invalidate("*");
      const until = Date.now() + 3000;
      while (!(await b.allows(user("erin"), "whatever"))) {
        if (Date.now() > until) throw new Error("instance b never saw the wildcard grant");
        await Bun.sleep(20);
      }
      await repo.revoke("*", "*");
      await a.invalidate("*");
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test("usage: 1,000 rows ending together are written in a few batched checkouts", async () => {
    const metrics = createGatewayMetrics(createRegistry({ defaultMetrics: false }));
    const recorder = new UsageRecorder(new UsageRepo(pool), metrics, captureLogger().log);
    const before = await checkouts("usage.insert");
    const row = (i: number): UsageRecord => ({
      id: `batch-${i}`, user_id: "frank", model: "m", upstream: 0, stream: i % 2 === 0, prompt_tokens: i % 3 === 0 ? null : i,
      completion_tokens: 7, started_at: 1_700_000_000, duration_ms: 10_000, first_byte_ms: null, upstream_status: 200, outcome: "completed",
    });
    for (let i = 0; i < 1000; i++) recorder.record(row(i));
    await recorder.settled();
    const made = (await checkouts("usage.insert")) - before;
    expect(made).toBeGreaterThanOrEqual(2);
    expect(made).toBeLessThanOrEqual(4);
    const rows = await new UsageRepo(pool).recent("frank", 500);
    expect(rows).toHaveLength(500);
    const counted = await pool.run("test.count", async (c) => (await c<{ n: string }[]>`select count(*) as n from gatehouse_usage where user_id = 'frank'`)[0]!.n);
    expect(Number(counted)).toBe(1000);
    expect(rows.find((r) => r.id === "batch-3")).toMatchObject({ prompt_tokens: null, stream: false, completion_tokens: 7 });
  });

  test("usage: a failed write is retried, not lost", async () => {
    const metricsRegistry = createRegistry({ defaultMetrics: false });
    const metrics = createGatewayMetrics(metricsRegistry);
    const real = new UsageRepo(pool);
    let failures = 1;
    const flaky = { insertMany: (rows: readonly UsageRecord[]) => (failures-- > 0 ? Promise.reject(new Error("database down")) : real.insertMany(rows)) } as UsageRepo;
    const recorder = new UsageRecorder(flaky, metrics, captureLogger().log, { retryMs: 50 });
    recorder.record({
      id: "retry-1", user_id: "gina", model: "m", upstream: 0, stream: true, prompt_tokens: 1, completion_tokens: 1,
      started_at: 1_700_000_000, duration_ms: 5, first_byte_ms: 1, upstream_status: 200, outcome: "completed",
    });
    const deadline = Date.now() + 3000;
    while ((await real.recent("gina")).length === 0) {
      if (Date.now() > deadline) throw new Error("the row was never written");
      await Bun.sleep(20);
    }
    const text = await metricsRegistry.metrics();
    expect(sample(text, "gatehouse_gateway_usage_write_failures_total")).toBe(1);
    expect(sample(text, "gatehouse_gateway_usage_rows_written_total")).toBe(1);
  });
});

describe("ModelDirectory", () => {
  test("an upstream whose /models fails keeps its last list; a single upstream takes any model", async () => {
    const a = startFakeLlm({ models: ["a1"] });
    const b = startFakeLlm({ models: ["b1"] });
    try {
      const log = captureLogger().log;
      const dir = new ModelDirectory(upstreamsFrom({ baseUrls: [a.url, b.url], keys: [] }), { ttlMs: 0, timeoutMs: 2000, minRefreshMs: 0, log });
      expect((await dir.list()).map((m) => m.id)).toEqual(["a1", "b1"]);
      expect((await dir.upstreamFor("b1")).index).toBe(1);
      await b.stop();
      await dir.refresh();
      expect((await dir.upstreamFor("b1")).index).toBe(1);
      await expect(dir.upstreamFor("zzz")).rejects.toThrow("Model 'zzz' not found");

      const single = new ModelDirectory(upstreamsFrom({ baseUrls: [a.url], keys: [] }), { ttlMs: 60_000, timeoutMs: 2000, minRefreshMs: 0, log });
      expect((await single.upstreamFor("not-listed")).index).toBe(0);
    } finally {
      await a.stop();
    }
  });
});
