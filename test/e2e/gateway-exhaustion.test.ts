/**
 * Local exhaustion is not an upstream failure: a Gatehouse process started with a tiny
 * RLIMIT_NOFILE (`ulimit -n`, soft and hard, so nothing can raise it) runs out of descriptors
 * under a burst of held LLM streams. Calls whose upstream connection cannot be opened answer
 * 503 + Retry-After with a detail naming the cause and count in a metric — never 502.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { sample } from "../helpers/metrics-text.ts";
import { startFakeLlm, type FakeLlm } from "../../bench/fake-llm.ts";

const root = new URL("../..", import.meta.url).pathname;
/** Enough for start-up and a handful of streams (each holds a client and an upstream descriptor). */
const NOFILE = 90;
const BURST = 120;

let fake: FakeLlm;
let gh: ServerProcess;
let token = "";

const chat = (signal?: AbortSignal) =>
  fetch(`${gh.baseUrl}/api/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "fake-gpt", stream: true, messages: [{ role: "user", content: "hold" }] }),
    signal,
  });

beforeAll(async () => {
  // Each answer lasts ≈ 4 s, so the burst's streams are all open together.
  fake = startFakeLlm({ tokens: 8, intervalMs: 500, firstTokenMs: 100 });
  gh = await startServerProcess({
    DATABASE_URL: await freshDatabaseUrl("gateway_exhaustion"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("gateway-exhaustion"),
    WEBUI_SECRET_KEY: "gateway-exhaustion-secret",
    DATABASE_POOL_SIZE: "1",
    DATABASE_POOL_MAX_OVERFLOW: "0",
    ENABLE_SIGNUP: "true",
    OPENAI_API_BASE_URL: fake.url,
    GATEHOUSE_GATEWAY_MAX_STREAMS_PER_USER: "0",
    GATEHOUSE_CRYPTO_THREADS: "1",
    BUN_CONFIG_MAX_HTTP_REQUESTS: "1024",
    GATEHOUSE_LOG_LEVEL: "warn",
  }, ["sh", "-c", `ulimit -n ${NOFILE} && exec ${root}node_modules/.bin/bun src/main.ts`]);
  const r = await fetch(`${gh.baseUrl}/api/v1/auths/signup`, postJson({ name: "admin", email: "admin@example.com", password: "pw-admin" }));
  expect(r.status).toBe(200);
  token = ((await r.json()) as { token: string }).token;
  // One call first: warms the caches and starts the runtime's HTTP client.
  const warm = await chat();
  expect(warm.status).toBe(200);
  await warm.text();
}, 60_000);

afterAll(async () => {
  gh?.kill("SIGKILL");
  await gh?.exited;
  await fake?.stop();
});

describe("out of descriptors", () => {
  test("a burst past RLIMIT_NOFILE answers 503 + Retry-After with a clear detail, never 502", async () => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 20_000);
    const answers = await Promise.all(Array.from({ length: BURST }, async () => {
      try {
        const res = await chat(abort.signal);
        const out = { status: res.status, retryAfter: res.headers.get("retry-after"), text: "" };
        // Streams are held (body unread) until the burst is over; errors are read at once.
        if (res.status !== 200) out.text = await res.text();
        else void res.body?.cancel().catch(() => {});
        return out;
      } catch {
        return { status: 0, retryAfter: null, text: "" }; // not accepted: the process had no descriptor for the socket
      }
    }));
    clearTimeout(timer);
    const byStatus: Record<number, number> = {};
    for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    console.log(`statuses over ${BURST} calls at RLIMIT_NOFILE=${NOFILE}: ${JSON.stringify(byStatus)}`);
    expect(byStatus[502] ?? 0).toBe(0);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.retryAfter).toBe("1");
      expect(JSON.parse(a.text).detail).toContain("out of local resources");
    }
    expect(Object.keys(byStatus).every((s) => ["0", "200", "503"].includes(s))).toBe(true);
    // Descriptors come back as the streams end; then the counter is readable.
    let metrics = "";
    for (let i = 0; i < 100 && !metrics; i++) {
      try {
        metrics = await (await fetch(`${gh.baseUrl}/metrics`)).text();
      } catch {
        await Bun.sleep(200);
      }
    }
    const counted = ["EMFILE", "ProcessFdQuotaExceeded"].reduce((n, code) => n + (sample(metrics, "gatehouse_gateway_local_exhaustion_total", { code }) ?? 0), 0);
    expect(counted).toBe(refused.length);
  }, 60_000);
});
