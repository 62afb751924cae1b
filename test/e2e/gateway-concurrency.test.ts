/**
 * The connection rule, enforced: 200 concurrent LLM streams through a Gatehouse process whose
 * pool has 2 connections. Every stream completes, the pool never had more than 2 connections
 * out, and no checkout waited longer than 100 ms — all read from /metrics, not from timing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { sample } from "../helpers/metrics-text.ts";
import { startFakeLlm, type FakeLlm } from "../../bench/fake-llm.ts";

const STREAMS = 200;
const TOKENS = 10;

let fake: FakeLlm;
let gh: ServerProcess;
let dbUrl: string;
const tokens: string[] = [];

/** Sum of every sample of `name` whose labels include `labels` (e.g. all `op`s of a histogram). */
function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

beforeAll(async () => {
  // Each answer lasts about 3 s, so all 200 are in flight together.
  fake = startFakeLlm({ tokens: TOKENS, intervalMs: 250, firstTokenMs: 500 });
  dbUrl = await freshDatabaseUrl("gateway_conc");
  gh = await startServerProcess({
    DATABASE_URL: dbUrl,
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("gateway-conc"),
    WEBUI_SECRET_KEY: "gateway-concurrency-secret",
    DATABASE_POOL_SIZE: "1",
    DATABASE_POOL_MAX_OVERFLOW: "1",
    DATABASE_POOL_TIMEOUT: "5",
    ENABLE_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
    OPENAI_API_BASE_URL: fake.url,
    BUN_CONFIG_MAX_HTTP_REQUESTS: "1024",
    GATEHOUSE_LOG_LEVEL: "warn",
  });
  for (const name of ["admin", "u1", "u2", "u3"]) {
    const r = await fetch(`${gh.baseUrl}/api/v1/auths/signup`, postJson({ name, email: `${name}@example.com`, password: `pw-${name}` }));
    expect(r.status).toBe(200);
    tokens.push(((await r.json()) as { token: string }).token);
  }
  const grant = await fetch(`${gh.baseUrl}/api/v1/gateway/model-access`, {
    method: "POST",
    headers: { authorization: `Bearer ${tokens[0]}`, "content-type": "application/json" },
    body: JSON.stringify({ user_id: "*", model_id: "fake-gpt" }),
  });
  expect(grant.status).toBe(200);
  // Warm the user and model-access caches, as a running deployment has them.
  for (const t of tokens) expect((await fetch(`${gh.baseUrl}/api/models`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(200);
  fake.reset();
});

afterAll(async () => {
  gh?.kill("SIGTERM");
  await gh?.exited;
  await fake?.stop();
});

describe("200 concurrent streams on a pool of 2", () => {
  test("all complete; peak active connections ≤ 2; no checkout waited > 100 ms", async () => {
    const results = await Promise.all(
      Array.from({ length: STREAMS }, async (_, i) => {
        const res = await fetch(`${gh.baseUrl}/api/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${tokens[i % tokens.length]}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "fake-gpt", stream: true, messages: [{ role: "user", content: `stream ${i}` }] }),
        });
        return { status: res.status, text: await res.text() };
      }),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.text).toEndWith("data: [DONE]\n\n");
      expect(r.text.match(/"content":"[^"]*tok\d+"/g)).toHaveLength(TOKENS);
    }

    // They really overlapped: the upstream had all of them open at once.
    const upstream = fake.stats();
    expect(upstream.completed).toBe(STREAMS);
    expect(upstream.cancelled).toBe(0);
    expect(upstream.peakActive).toBe(STREAMS);

    // The usage rows are written behind the streams; wait for all of them (bounded by the test timeout).
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      for (;;) {
        const [row] = await sql<{ n: string }[]>`select count(*) as n from gatehouse_usage where outcome = 'completed'`;
        if (Number(row!.n) === STREAMS) break;
        await Bun.sleep(50);
      }
    } finally {
      await sql.end();
    }

    const metrics = await (await fetch(`${gh.baseUrl}/metrics`)).text();
    expect(sample(metrics, "gatehouse_db_pool_max_connections")).toBe(2);
    const peak = sample(metrics, "gatehouse_db_pool_active_peak")!;
    expect(peak).toBeGreaterThanOrEqual(1);
    expect(peak).toBeLessThanOrEqual(2);

    const checkouts = sum(metrics, "gatehouse_db_checkout_wait_seconds_count");
    expect(checkouts).toBeGreaterThan(0);
    expect(sum(metrics, "gatehouse_db_checkout_wait_seconds_bucket", { le: "0.1" })).toBe(checkouts);
    expect(sample(metrics, "gatehouse_db_checkout_timeouts_total")).toBe(0);
    expect(sample(metrics, "gatehouse_db_checkout_rejected_total")).toBe(0);

    // Warm streams make no checkout of their own before the call; the usage rows went in batches.
    const route = { route: "/api/chat/completions" };
    expect(sample(metrics, "gatehouse_db_request_wait_seconds_count", route)).toBe(STREAMS);
    expect(sample(metrics, "gatehouse_db_request_checkouts_sum", route)).toBe(0);
    expect(sample(metrics, "gatehouse_gateway_upstream_calls_total", { ...route, outcome: "completed" })).toBe(STREAMS);
    expect(sample(metrics, "gatehouse_gateway_usage_rows_written_total")).toBe(STREAMS);
    expect(sample(metrics, "gatehouse_db_checkout_wait_seconds_count", { op: "usage.insert" })!).toBeLessThan(STREAMS);
  });
});
