/**
 * Attack: one user opening streams without end (each holds an upstream connection). A per-user
 * cap answers 429 with Retry-After, and a slot is released when a stream ends, fails or is aborted.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFakeLlm, type FakeLlm } from "../../bench/fake-llm.ts";
import { serveFreshApp, signUpOk, type ServedApp } from "../helpers/served-app.ts";
import { waitFor } from "../helpers/wait.ts";

const CAP = 2;
let s: ServedApp;
let fake: FakeLlm;
let aliceToken = "";
let bobToken = "";
let bobId = "";

beforeAll(async () => {
  fake = startFakeLlm({ tokens: 3, intervalMs: 20, firstTokenMs: 10 });
  s = await serveFreshApp("sec_stream_cap", {
    ENABLE_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
    OPENAI_API_BASE_URL: fake.url,
    GATEHOUSE_GATEWAY_MAX_STREAMS_PER_USER: String(CAP),
  });
  aliceToken = (await signUpOk(s, "Alice", "alice@example.com")).token; // admin: every model
  const bob = await signUpOk(s, "Bob", "bob@example.com");
  bobToken = bob.token;
  bobId = bob.id;
  expect((await s.post("/api/v1/gateway/model-access", { user_id: "*", model_id: "fake-gpt" }, aliceToken)).status).toBe(200);
});

afterAll(async () => {
  await s?.close();
  await fake?.stop();
});

/** A stream that lasts ~20 s unless cut short; the response has started when this resolves. */
function longStream(token: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${s.base}/api/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "fake-gpt", stream: true, messages: [{ role: "user", content: "long" }], fake: { tokens: 200, interval_ms: 100 } }),
    signal,
  });
}

test(`a user's stream beyond ${CAP} gets 429 + Retry-After; other users are unaffected; an aborted stream frees its slot`, async () => {
  const aborts = [new AbortController(), new AbortController()];
  const open = await Promise.all(aborts.map((a) => longStream(bobToken, a.signal)));
  for (const r of open) expect(r.status).toBe(200);

  const third = await longStream(bobToken);
  expect(third.status).toBe(429);
  expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(((await third.json()) as { detail: string }).detail).toMatch(/streams/i);

  // Another user has slots of their own.
  const other = new AbortController();
  const alice = await longStream(aliceToken, other.signal);
  expect(alice.status).toBe(200);
  other.abort();

  // The client goes away mid-stream: its slot is released (polled, the server sees the close asynchronously).
  aborts[0]!.abort();
  const again = await waitFor("a slot freed by the aborted stream", async () => {
    const r = await longStream(bobToken, (aborts[0] = new AbortController()).signal);
    if (r.status === 200) return r;
    await r.arrayBuffer();
    return null;
  }, 10_000, 100);
  expect(again.status).toBe(200);
  for (const a of aborts) a.abort();
  await Promise.all(open.map((r) => r.body?.cancel().catch(() => {})));
  await waitFor("every slot released", () => s.app.instance.gateway.slots.held(bobId) === 0, 10_000);
});

test("a stream that ends normally releases its slot: many short streams in a row all pass", async () => {
  for (let i = 0; i < CAP * 3; i++) {
    const r = await fetch(`${s.base}/api/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${bobToken}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "fake-gpt", stream: true, messages: [{ role: "user", content: `short ${i}` }] }),
    });
    expect(r.status).toBe(200);
    expect(await r.text()).toEndWith("data: [DONE]\n\n");
  }
});
