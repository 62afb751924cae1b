/**
 * Attack: a body the gateway checks one way and the upstream reads another. Granted only
 * `cheap-model`, `{"model":"cheap-model","Model":"premium-model"}` must not reach an upstream that
 * matches keys case-insensitively (Go's encoding/json: Ollama, LocalAI). Duplicate keys and case
 * variants of `model`/`stream` are refused; what is forwarded is re-serialised from what was checked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveFreshApp, signUpOk, type ServedApp } from "../helpers/served-app.ts";

/** A loopback upstream that records each body and reads keys as Go does: case-insensitively, the last one winning. */
function startGoLikeUpstream() {
  const received: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/v1/models") return Response.json({ object: "list", data: [{ id: "cheap-model", object: "model" }, { id: "premium-model", object: "model" }] });
      const raw = await req.text();
      received.push(raw);
      let served = "";
      // Go's decoder visits keys in order; each key that folds to "model" overwrites the field.
      const keyRe = /"((?:[^"\\]|\\.)*)"\s*:\s*("(?:[^"\\]|\\.)*")?/g;
      for (const m of raw.matchAll(keyRe)) if ((JSON.parse(`"${m[1]}"`) as string).toLowerCase() === "model" && m[2]) served = JSON.parse(m[2]) as string;
      return Response.json({ id: "x", object: "chat.completion", model: served, choices: [{ index: 0, message: { role: "assistant", content: `served by ${served}` } }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1`, received, stop: () => server.stop(true) };
}

let s: ServedApp;
let upstream: ReturnType<typeof startGoLikeUpstream>;
let userToken = "";

beforeAll(async () => {
  upstream = startGoLikeUpstream();
  s = await serveFreshApp("sec_gateway_parser", { ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", OPENAI_API_BASE_URL: upstream.url });
  const admin = await signUpOk(s, "Admin", "admin@example.com");
  const user = await signUpOk(s, "User", "user@example.com");
  userToken = user.token;
  expect((await s.post("/api/v1/gateway/model-access", { user_id: user.id, model_id: "cheap-model" }, admin.token)).status).toBe(200);
});

afterAll(async () => {
  await s?.close();
  await upstream?.stop();
});

function chatRaw(raw: string): Promise<Response> {
  return fetch(`${s.base}/api/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${userToken}`, "content-type": "application/json" }, body: raw });
}

const MESSAGES = `"messages":[{"role":"user","content":"hi"}]`;

describe("the body the upstream sees is the body that was checked", () => {
  const attacks: Array<[string, string]> = [
    ["a case variant of model", `{"model":"cheap-model","Model":"premium-model",${MESSAGES}}`],
    ["an escaped case variant of model", `{"model":"cheap-model","\\u004dODEL":"premium-model",${MESSAGES}}`],
    ["a duplicate model key (first one premium)", `{"model":"premium-model","model":"cheap-model",${MESSAGES}}`],
    ["a case variant of stream", `{"model":"cheap-model","Stream":true,${MESSAGES}}`],
    ["a duplicate key anywhere", `{"model":"cheap-model",${MESSAGES},"messages":[]}`],
  ];
  for (const [what, raw] of attacks) {
    test(`${what} is refused with 400 and never forwarded`, async () => {
      const before = upstream.received.length;
      const res = await chatRaw(raw);
      const body = (await res.json()) as { detail?: string; model?: string };
      expect({ status: res.status, served: body.model }).toEqual({ status: 400, served: undefined });
      expect(body.detail).toMatch(/duplicate|variant/i);
      expect(upstream.received.length).toBe(before);
    });
  }

  test("an accepted body is forwarded re-serialised from the parsed request", async () => {
    const raw = `{ "model" : "cheap-model",\n ${MESSAGES}, "temperature": 0.5 }`;
    const res = await chatRaw(raw);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model: string }).model).toBe("cheap-model");
    expect(upstream.received.at(-1)).toBe(JSON.stringify(JSON.parse(raw)));
  });
});
