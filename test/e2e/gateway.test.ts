import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { sample } from "../helpers/metrics-text.ts";
import { freePort } from "../harness/services.ts";
import { serveBun, type RunningServer } from "../../src/runtime/bun.ts";
import { startFakeLlm, type FakeLlm } from "../../bench/fake-llm.ts";
import { waitFor } from "../helpers/wait.ts";

const UPSTREAM_KEY = "sk-upstream-secret";
const TIMEOUT_MS = 1500;

let dbUrl: string;
let fake: FakeLlm;
let app: TestApp;
let server: RunningServer;
let base: string;
let adminToken = "";
let adminId = "";
let bobToken = "";
let bobId = "";

/** The app over real loopback HTTP, so disconnects are real disconnects. */
function serve(a: TestApp): RunningServer {
  return serveBun(a.fetch, { host: "127.0.0.1", port: 0, maxBodyBytes: 1_048_576 });
}

async function signup(b: string, name: string, email: string): Promise<{ token: string; id: string }> {
  const r = await fetch(`${b}/api/v1/auths/signup`, postJson({ name, email, password: "pw-" + name }));
  expect(r.status).toBe(200);
  const body = (await r.json()) as { token: string; id: string };
  return { token: body.token, id: body.id };
}

const chatBody = (over: Record<string, unknown> = {}) => ({
  model: "fake-gpt",
  messages: [{ role: "user", content: "Say something short" }],
  ...over,
});

function chat(token: string, body: unknown, init: RequestInit = {}, path = "/api/chat/completions", b = base): Promise<Response> {
  return fetch(`${b}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

async function usageRows(where: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  await app.instance.gateway.usage.settled();
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    return await sql.unsafe(`select * from gatehouse_usage where ${where} order by started_at, id`, params as never[]);
  } finally {
    await sql.end();
  }
}

async function concat(res: Response): Promise<{ bytes: Uint8Array; reads: number }> {
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  let reads = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    reads++;
    parts.push(r.value);
  }
  return { bytes: Buffer.concat(parts), reads };
}

beforeAll(async () => {
  dbUrl = await freshDatabaseUrl("gateway");
  fake = startFakeLlm({ tokens: 5, intervalMs: 30, firstTokenMs: 30, apiKey: UPSTREAM_KEY });
  app = await startTestApp({
    DATABASE_URL: dbUrl,
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("gateway"),
    ENABLE_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
    OPENAI_API_BASE_URL: fake.url,
    OPENAI_API_KEY: UPSTREAM_KEY,
    GATEHOUSE_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  server = serve(app);
  base = `http://127.0.0.1:${server.port}`;
  ({ token: adminToken, id: adminId } = await signup(base, "Ada", "ada@example.com"));
  ({ token: bobToken, id: bobId } = await signup(base, "Bob", "bob@example.com"));
});

afterAll(async () => {
  await server?.stop(true);
  await app?.close();
  await fake?.stop();
});

describe("pass-through", () => {
  test("streaming: the upstream's bytes arrive unchanged, chunk by chunk, as SSE", async () => {
    const body = chatBody({ stream: true });
    const direct = await fetch(`${fake.url}/chat/completions`, postJson(body, { authorization: `Bearer ${UPSTREAM_KEY}` }));
    const expected = (await concat(direct)).bytes;

    const res = await chat(adminToken, body);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("server-timing")).toMatch(/^db;dur=\d+\.\d\d$/);
    const got = await concat(res);
    expect(Buffer.from(got.bytes).equals(Buffer.from(expected))).toBe(true);
    expect(new TextDecoder().decode(got.bytes)).toEndWith("data: [DONE]\n\n");
    // 5 tokens 30 ms apart: the client sees them as they come, not as one buffered body.
    expect(got.reads).toBeGreaterThanOrEqual(4);
  });

  test("non-streaming: the JSON body passes byte for byte; /v1/chat/completions too", async () => {
    const body = chatBody();
    const direct = await fetch(`${fake.url}/chat/completions`, postJson(body, { authorization: `Bearer ${UPSTREAM_KEY}` }));
    const expected = new Uint8Array(await direct.arrayBuffer());
    for (const path of ["/api/chat/completions", "/v1/chat/completions"]) {
      const res = await chat(adminToken, body, {}, path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith("application/json");
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(expected))).toBe(true);
    }
  });

  test("the client's credential never reaches the upstream; the configured key does", async () => {
    const before = fake.stats().unauthorized;
    expect((await chat(adminToken, chatBody())).status).toBe(200);
    expect(fake.stats().unauthorized).toBe(before);
  });
});

describe("model access", () => {
  const grant = (method: "POST" | "DELETE", user_id: string, model_id: string) =>
    fetch(`${base}/api/v1/gateway/model-access`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ user_id, model_id }),
    });

  test("a user without a grant gets 403 and an empty model list; admins see every model", async () => {
    const denied = await chat(bobToken, chatBody());
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ detail: "You do not have access to model 'fake-gpt'" });
    const bobModels = await fetch(`${base}/api/models`, { headers: { authorization: `Bearer ${bobToken}` } });
    expect(await bobModels.json()).toEqual({ object: "list", data: [] });
    const adminModels = (await (await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { data: Array<{ id: string }> };
    expect(adminModels.data.map((m) => m.id)).toEqual(["fake-gpt", "fake-mini"]);
  });

  test("a grant takes effect at once (the cached denial is invalidated), and so does a revocation", async () => {
    expect((await grant("POST", bobId, "fake-gpt")).status).toBe(200);
    expect((await chat(bobToken, chatBody())).status).toBe(200);
    const models = (await (await fetch(`${base}/api/models`, { headers: { authorization: `Bearer ${bobToken}` } })).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toEqual(["fake-gpt"]);
    expect((await chat(bobToken, chatBody({ model: "fake-mini" }))).status).toBe(403);

    expect((await grant("POST", "*", "fake-mini")).status).toBe(200);
    expect((await chat(bobToken, chatBody({ model: "fake-mini" }))).status).toBe(200);
    expect(await (await grant("DELETE", "*", "fake-mini")).json()).toEqual({ revoked: true });
    expect((await chat(bobToken, chatBody({ model: "fake-mini" }))).status).toBe(403);
  });

  test("a completed stream writes one usage row with the upstream's token counts", async () => {
    const body = chatBody({ stream: true, messages: [{ role: "user", content: "count these four words" }], fake: { tokens: 7 } });
    const res = await chat(bobToken, body);
    expect(res.status).toBe(200);
    await res.text();
    const rows = await waitFor("the usage row", async () => {
      const r = await usageRows("user_id = $1 and completion_tokens = 7", [bobId]);
      return r.length > 0 ? r : undefined;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model: "fake-gpt", upstream: 0, stream: true, prompt_tokens: 4, completion_tokens: 7, outcome: "completed", upstream_status: 200 });
    expect(Number(rows[0]!["duration_ms"])).toBeGreaterThan(0);
    expect(Number(rows[0]!["first_byte_ms"])).toBeGreaterThanOrEqual(0);
  });

  test("grants are admin-only", async () => {
    const r = await fetch(`${base}/api/v1/gateway/model-access`, {
      method: "POST",
      headers: { authorization: `Bearer ${bobToken}`, "content-type": "application/json" },
      body: JSON.stringify({ user_id: bobId, model_id: "fake-mini" }),
    });
    expect(r.status).toBe(401);
  });

  test("API keys work like session tokens", async () => {
    const created = await fetch(`${base}/api/v1/auths/api_key`, { method: "POST", headers: { authorization: `Bearer ${bobToken}` } });
    const { api_key } = (await created.json()) as { api_key: string };
    expect(api_key).toMatch(/^sk-/);
    const res = await chat(api_key, chatBody({ stream: true }));
    expect(res.status).toBe(200);
    expect(await res.text()).toEndWith("data: [DONE]\n\n");
  });

  test("no credential → 403, a bad one → 401, before anything reaches the upstream", async () => {
    const before = fake.stats().chatRequests;
    const none = await fetch(`${base}/api/chat/completions`, postJson(chatBody()));
    expect(none.status).toBe(403);
    expect((await chat("not-a-token", chatBody())).status).toBe(401);
    expect(fake.stats().chatRequests).toBe(before);
  });
});

describe("request validation", () => {
  test("malformed JSON, a missing model and a non-boolean stream are 400s with a detail", async () => {
    const bad = await chat(adminToken, "{nope");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ detail: "Malformed request body: expected valid JSON" });
    const noModel = await chat(adminToken, { messages: [] });
    expect(noModel.status).toBe(400);
    expect(((await noModel.json()) as { detail: string }).detail).toContain("'model'");
    const badStream = await chat(adminToken, chatBody({ stream: "yes" }));
    expect(badStream.status).toBe(400);
  });
});

describe("upstream failures give a clear 5xx detail", () => {
  test("upstream 500 → 502 naming the status and the upstream's message", async () => {
    for (const stream of [false, true]) {
      const res = await chat(adminToken, chatBody({ stream, fake: { status: 500, error: "model crashed" } }));
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ detail: "LLM upstream answered HTTP 500: model crashed" });
    }
  });

  test("a client error from the upstream (429) keeps its status, with the upstream status in the detail", async () => {
    const res = await chat(adminToken, chatBody({ fake: { status: 429, error: "slow down" } }));
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ detail: "LLM upstream answered HTTP 429: slow down" });
  });

  test("no answer within GATEHOUSE_UPSTREAM_TIMEOUT_MS → 504; the upstream request is cancelled", async () => {
    const cancelled = fake.stats().cancelled;
    for (const stream of [false, true]) {
      const started = performance.now();
      const res = await chat(adminToken, chatBody({ stream, fake: { hang: true } }));
      expect(res.status).toBe(504);
      expect(await res.json()).toEqual({ detail: `LLM upstream did not respond within ${TIMEOUT_MS} ms (GATEHOUSE_UPSTREAM_TIMEOUT_MS)` });
      expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    }
    await waitFor("the upstream to see both cancellations", () => fake.stats().cancelled >= cancelled + 2);
    const rows = await usageRows("outcome = 'upstream_timeout' and user_id = $1", [adminId]);
    expect(rows).toHaveLength(2);
  });

  test("a stall mid-stream ends the stream with an error event and records upstream_timeout", async () => {
    const res = await chat(adminToken, chatBody({ stream: true, fake: { tokens: 3, interval_ms: TIMEOUT_MS + 1000 } }));
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = text.split("\n\n").filter(Boolean);
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[1]!.slice("data: ".length))).toEqual({
      error: { message: `LLM upstream did not respond within ${TIMEOUT_MS} ms (GATEHOUSE_UPSTREAM_TIMEOUT_MS)`, type: "gateway_error", code: "ERR_UPSTREAM_TIMEOUT" },
    });
  });

  test("the timeout bounds each wait, not the call: a stream slower in total than GATEHOUSE_UPSTREAM_TIMEOUT_MS but with shorter gaps completes", async () => {
    const started = performance.now();
    const res = await chat(adminToken, chatBody({ stream: true, fake: { tokens: 2, first_token_ms: TIMEOUT_MS * 0.6, interval_ms: TIMEOUT_MS * 0.6 } }));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(performance.now() - started).toBeGreaterThan(TIMEOUT_MS * 1.5);
    expect(text).not.toContain("ERR_UPSTREAM_TIMEOUT");
    expect(text).toEndWith("data: [DONE]\n\n");
  });

  test("malformed SSE: a bad first event → 502; a bad later event ends the stream with an error event", async () => {
    const first = await chat(adminToken, chatBody({ stream: true, fake: { malformed: "first" } }));
    expect(first.status).toBe(502);
    expect(await first.json()).toEqual({ detail: "LLM upstream sent a malformed response: event 1 is not valid JSON" });

    const middle = await chat(adminToken, chatBody({ stream: true, fake: { malformed: "middle" } }));
    expect(middle.status).toBe(200);
    const text = await middle.text();
    expect(text).toContain("data: <html>oops</html>\n\n");
    expect(text).toEndWith(`data: ${JSON.stringify({ error: { message: "LLM upstream sent a malformed response: event 3 is not a JSON object", type: "gateway_error", code: "ERR_UPSTREAM_MALFORMED" } })}\n\n`);

    const wrongType = await chat(adminToken, chatBody({ stream: true, fake: { content_type: "text/plain" } }));
    expect(wrongType.status).toBe(502);
    expect(await wrongType.json()).toEqual({ detail: "LLM upstream sent a malformed response: expected text/event-stream for a streaming request, got text/plain" });
    const rows = await usageRows("outcome = 'upstream_malformed'");
    expect(rows).toHaveLength(3);
  });

  test("the upstream dropping the connection mid-stream ends it with an error event (upstream_error)", async () => {
    const res = await chat(adminToken, chatBody({ stream: true, fake: { tokens: 5, drop_after: 2 } }));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"code":"ERR_UPSTREAM_UNREACHABLE"');
    expect(text).toContain("connection closed before the response was complete");
  });
});

describe("client disconnects", () => {
  test("aborting mid-stream cancels the upstream request and records client_closed", async () => {
    const before = fake.stats().cancelled;
    const completedBefore = fake.stats().completed;
    const ac = new AbortController();
    const res = await chat(adminToken, chatBody({ stream: true, messages: [{ role: "user", content: "abort me" }], fake: { tokens: 50, interval_ms: 50 } }), { signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    ac.abort();
    await waitFor("the fake upstream to count the cancellation", () => fake.stats().cancelled === before + 1);
    const rows = await waitFor("the client_closed row", async () => {
      const r = await usageRows("outcome = 'client_closed'");
      return r.length > 0 ? r : undefined;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ user_id: adminId, model: "fake-gpt", stream: true, outcome: "client_closed" });
    expect(fake.stats().completed).toBe(completedBefore);
  });

  test("aborting before the first token also cancels the upstream request", async () => {
    const before = fake.stats().cancelled;
    const ac = new AbortController();
    const pending = chat(adminToken, chatBody({ stream: true, fake: { first_token_ms: 1000 } }), { signal: ac.signal }).catch((e: unknown) => e);
    await waitFor("the upstream to start answering", () => fake.stats().active > 0);
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    await waitFor("the fake upstream to count the cancellation", () => fake.stats().cancelled === before + 1);
  });
});

describe("operators see the checkout time", () => {
  test("Server-Timing on every gateway answer; gatehouse_db_request_wait_seconds{route} counts them", async () => {
    const res = await chat(adminToken, chatBody());
    expect(res.headers.get("server-timing")).toMatch(/^db;dur=/);
    await res.arrayBuffer();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(sample(metrics, "gatehouse_db_request_wait_seconds_count", { route: "/api/chat/completions" })).toBeGreaterThan(10);
    expect(sample(metrics, "gatehouse_db_request_wait_seconds_count", { route: "/v1/chat/completions" })).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, "gatehouse_gateway_upstream_calls_total", { route: "/api/chat/completions", outcome: "completed" })).toBeGreaterThan(3);
    expect(sample(metrics, "gatehouse_gateway_streams_active")).toBe(0);
  });

  test("users read their own calls", async () => {
    const r = await fetch(`${base}/api/v1/gateway/usage?limit=5`, { headers: { authorization: `Bearer ${bobToken}` } });
    const rows = (await r.json()) as Array<{ user_id: string }>;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.user_id === bobId)).toBe(true);
  });
});

describe("other upstream configurations", () => {
  let other: TestApp | undefined;
  let otherServer: RunningServer | undefined;
  let fakeB: FakeLlm | undefined;
  afterAll(async () => {
    await otherServer?.stop(true);
    await other?.close();
    await fakeB?.stop();
  });

  async function startOther(env: Record<string, string>): Promise<string> {
    await otherServer?.stop(true);
    await other?.close();
    other = await startTestApp({ DATABASE_URL: dbUrl, REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("gateway-other"), GATEHOUSE_UPSTREAM_TIMEOUT_MS: "2000", ...env });
    otherServer = serve(other);
    return `http://127.0.0.1:${otherServer.port}`;
  }

  test("no upstream configured → 503 naming OPENAI_API_BASE_URL", async () => {
    const b = await startOther({});
    for (const path of ["/api/chat/completions", "/v1/chat/completions"]) {
      const res = await chat(adminToken, chatBody(), {}, path, b);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { detail: string }).detail).toContain("OPENAI_API_BASE_URL");
    }
    const models = await fetch(`${b}/api/models`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(models.status).toBe(503);
  });

  test("connection refused → 502 naming the cause", async () => {
    const port = await freePort();
    const b = await startOther({ OPENAI_API_BASE_URL: `http://127.0.0.1:${port}/v1` });
    for (const stream of [false, true]) {
      const res = await chat(adminToken, chatBody({ stream }), {}, "/api/chat/completions", b);
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ detail: "LLM upstream is unreachable: connection refused" });
    }
  });

  test("several upstreams: models are routed by each upstream's /models, unknown ones are 404", async () => {
    fakeB = startFakeLlm({ tokens: 2, intervalMs: 5, firstTokenMs: 5, models: ["b-model", "fake-gpt"], apiKey: "sk-b" });
    const b = await startOther({ OPENAI_API_BASE_URLS: `${fake.url};${fakeB.url}`, OPENAI_API_KEYS: `${UPSTREAM_KEY};sk-b` });
    const list = (await (await fetch(`${b}/api/models`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((m) => m.id)).toEqual(["fake-gpt", "fake-mini", "b-model"]);

    const aBefore = fake.stats().chatRequests;
    const bBefore = fakeB.stats().chatRequests;
    expect((await chat(adminToken, chatBody({ model: "b-model" }), {}, "/api/chat/completions", b)).status).toBe(200);
    expect((await chat(adminToken, chatBody({ model: "fake-gpt" }), {}, "/api/chat/completions", b)).status).toBe(200);
    expect(fakeB.stats().chatRequests).toBe(bBefore + 1);
    expect(fake.stats().chatRequests).toBe(aBefore + 1);

    const unknown = await chat(adminToken, chatBody({ model: "nope" }), {}, "/api/chat/completions", b);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: "Model 'nope' not found" });
  });
});
