/**
 * A fake OpenAI-compatible LLM upstream on loopback, for tests, the concurrency benchmark and
 * the README demo. `GET /v1/models`, `POST /v1/chat/completions` (also without `/v1`), streaming
 * `tokens` chunks `interval-ms` apart after `first-token-ms`, with a final usage chunk, then
 * `data: [DONE]`. Output is deterministic for a given request body, so pass-through can be
 * compared byte for byte. `GET /stats` counts requests, completions and cancellations (a client
 * that went away mid-answer); `POST /stats/reset` zeroes them.
 *
 *   bun bench/fake-llm.ts [--port 8089] [--tokens 20] [--interval-ms 50] [--first-token-ms 200]
 *                         [--seconds S] [--models fake-gpt,fake-mini] [--api-key KEY]
 *                         [--listen-backlog auto|off|N]
 *   (or FAKE_LLM_PORT, FAKE_LLM_TOKENS, FAKE_LLM_INTERVAL_MS, FAKE_LLM_FIRST_TOKEN_MS,
 *    FAKE_LLM_SECONDS, FAKE_LLM_MODELS, FAKE_LLM_API_KEY, FAKE_LLM_LISTEN_BACKLOG)
 *
 * `--seconds S` spreads the tokens so each answer lasts S seconds in total. `--listen-backlog`
 * (default auto: net.core.somaxconn) deepens the listener's accept queue as Gatehouse's
 * GATEHOUSE_LISTEN_BACKLOG does (src/runtime/listen-backlog.ts), so that a bench's stand-in
 * upstream does not drop the connections of a burst at Bun's fixed 512.
 *
 * A request may steer one answer with a `"fake"` object in its body (it is ignored otherwise):
 *   { "tokens": n, "interval_ms": n, "first_token_ms": n,
 *     "status": 500, "error": "message",      — answer that status with an OpenAI error body
 *     "hang": true,                            — never answer (upstream timeout tests)
 *     "malformed": "first" | "middle",         — send an event whose data is not JSON
 *     "content_type": "text/plain",            — stream with another content type
 *     "drop_after": n }                        — close the connection after n tokens
 */
import { parseArgs } from "node:util";
import { listenBacklogSetting } from "../src/config/listen-backlog-config.ts";
import { applyListenBacklog, describeListenBacklog } from "../src/runtime/listen-backlog.ts";

export interface FakeLlmOptions {
  /** Default 0 (a free port). Always bound to 127.0.0.1. */
  port?: number;
  tokens?: number;
  intervalMs?: number;
  firstTokenMs?: number;
  /** Total length of one answer; overrides `intervalMs` when set. */
  seconds?: number;
  models?: string[];
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string | null;
  /** Listen with SO_REUSEPORT, so several fake-llm processes share one port (each its own accept queue). */
  reusePort?: boolean;
  /** Also serve `/stats` and `/stats/reset` on this port (with reusePort, the shared port reaches any one process). */
  statsPort?: number;
}

/** Counters since start or the last reset. */
export interface FakeLlmStats {
  requests: number;
  chatRequests: number;
  streamsStarted: number;
  /** Answers sent to the end. */
  completed: number;
  /** Answers the client abandoned before the end (connection closed, stream cancelled). */
  cancelled: number;
  /** Answers in progress now, and the most at once. */
  active: number;
  peakActive: number;
  /** Error statuses sent, and connections dropped mid-answer, on purpose. */
  errors: number;
  dropped: number;
  unauthorized: number;
  /** Durations of completed answers, from request to last byte, in ms. */
  durationMs: { count: number; p50: number; p99: number; max: number };
}

export interface FakeLlm {
  /** `http://127.0.0.1:PORT/v1`, the value for OPENAI_API_BASE_URL. */
  url: string;
  port: number;
  stats(): FakeLlmStats;
  reset(): void;
  stop(): Promise<void>;
}

interface Steering {
  tokens?: number;
  interval_ms?: number;
  first_token_ms?: number;
  status?: number;
  error?: string;
  hang?: boolean;
  malformed?: "first" | "middle";
  content_type?: string;
  drop_after?: number;
}

/** Fixed `created`, so identical requests get identical bytes. */
const CREATED = 1_700_000_000;
const encoder = new TextEncoder();

/** Starts the fake upstream on 127.0.0.1. */
export function startFakeLlm(opts: FakeLlmOptions = {}): FakeLlm {
  const tokens = opts.tokens ?? 20;
  const firstTokenMs = opts.firstTokenMs ?? 200;
  const intervalMs = opts.seconds !== undefined
    ? Math.max(0, (opts.seconds * 1000 - firstTokenMs) / Math.max(1, tokens))
    : opts.intervalMs ?? 50;
  const models = opts.models ?? ["fake-gpt", "fake-mini"];
  const apiKey = opts.apiKey ?? null;

  const blank = () => ({ requests: 0, chatRequests: 0, streamsStarted: 0, completed: 0, cancelled: 0, active: 0, peakActive: 0, errors: 0, dropped: 0, unauthorized: 0 });
  let counts = blank();
  let durations: number[] = [];

  const begin = () => {
    counts.active++;
    counts.peakActive = Math.max(counts.peakActive, counts.active);
    let ended = false;
    const started = performance.now();
    return (how: "completed" | "cancelled" | "dropped") => {
      if (ended) return;
      ended = true;
      counts.active--;
      counts[how]++;
      if (how === "completed") durations.push(performance.now() - started);
    };
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    reusePort: opts.reusePort ?? false,
    // Answers may pause for long on purpose (hang, slow first token).
    idleTimeout: 0,
    async fetch(req) {
      counts.requests++;
      const url = new URL(req.url);
      const path = url.pathname.replace(/^\/v1(?=\/)/, "");
      if (path === "/stats" && req.method === "GET") return Response.json(snapshot());
      if (path === "/stats/reset" && req.method === "POST") {
        reset();
        return Response.json({ ok: true });
      }
      if (apiKey !== null && req.headers.get("authorization") !== `Bearer ${apiKey}`) {
        counts.unauthorized++;
        return openAiError(401, "Incorrect API key provided", "invalid_api_key");
      }
      if (path === "/models" && req.method === "GET") {
        return Response.json({ object: "list", data: models.map((id) => ({ id, object: "model", created: CREATED, owned_by: "fake-llm" })) });
      }
      if (path === "/chat/completions" && req.method === "POST") return chat(req);
      return openAiError(404, `Unknown route ${req.method} ${url.pathname}`, "not_found");
    },
  });

  async function chat(req: Request): Promise<Response> {
    counts.chatRequests++;
    const raw = await req.text();
    let body: { model?: unknown; stream?: unknown; messages?: unknown; fake?: Steering; stream_options?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return openAiError(400, "We could not parse the JSON body of your request.", "invalid_json");
    }
    const fake: Steering = typeof body.fake === "object" && body.fake !== null ? body.fake : {};
    const model = typeof body.model === "string" ? body.model : "fake-gpt";
    const n = fake.tokens ?? tokens;
    const first = fake.first_token_ms ?? firstTokenMs;
    const gap = fake.interval_ms ?? (fake.tokens !== undefined && opts.seconds !== undefined ? intervalMs * tokens / Math.max(1, n) : intervalMs);
    const id = `chatcmpl-${(await sha256Hex(raw)).slice(0, 24)}`;
    const promptTokens = countWords(body.messages);
    const end = begin();

    if (fake.hang) {
      await new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve(), { once: true }));
      end("cancelled");
      return new Response(null, { status: 499 });
    }
    if (fake.status !== undefined && fake.status >= 400) {
      counts.errors++;
      end("completed");
      return openAiError(fake.status, fake.error ?? "The fake upstream failed on purpose", "fake_error");
    }
    const words = Array.from({ length: n }, (_, i) => `${i === 0 ? "" : " "}tok${i}`);
    const usage = { prompt_tokens: promptTokens, completion_tokens: n, total_tokens: promptTokens + n };

    if (body.stream !== true) {
      const aborted = await sleepUnlessAborted(first + gap * n, req.signal);
      if (aborted) {
        end("cancelled");
        return new Response(null, { status: 499 });
      }
      end("completed");
      return Response.json({
        id, object: "chat.completion", created: CREATED, model,
        choices: [{ index: 0, message: { role: "assistant", content: words.join("") }, finish_reason: "stop" }],
        usage,
      });
    }

    counts.streamsStarted++;
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      JSON.stringify({ id, object: "chat.completion.chunk", created: CREATED, model, choices: [{ index: 0, delta, finish_reason: finish }] });
    const events: string[] = [];
    words.forEach((w, i) => events.push(`data: ${chunk(i === 0 ? { role: "assistant", content: w } : { content: w }, null)}\n\n`));
    events.push(`data: ${chunk({}, "stop")}\n\n`);
    events.push(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: CREATED, model, choices: [], usage })}\n\n`);
    events.push("data: [DONE]\n\n");
    if (fake.malformed === "first") events[0] = "data: {this is not json\n\n";
    if (fake.malformed === "middle") events.splice(Math.min(2, events.length - 1), 0, "data: <html>oops</html>\n\n");

    let i = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (fake.drop_after !== undefined && i >= fake.drop_after) {
          end("dropped");
          controller.error(new Error("fake-llm: dropping the connection on purpose (drop_after)"));
          return;
        }
        return new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            controller.enqueue(encoder.encode(events[i]!));
            i++;
            if (i === events.length) {
              end("completed");
              controller.close();
            }
            resolve();
          }, i === 0 ? first : i <= n ? gap : 0);
        });
      },
      cancel() {
        clearTimeout(timer);
        end("cancelled");
      },
    }, { highWaterMark: 0 });
    req.signal.addEventListener("abort", () => {
      clearTimeout(timer);
      end("cancelled");
    }, { once: true });
    return new Response(stream, { headers: { "content-type": fake.content_type ?? "text/event-stream", "cache-control": "no-cache" } });
  }

  function snapshot(): FakeLlmStats {
    const sorted = [...durations].sort((a, b) => a - b);
    const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : 0);
    return {
      ...counts,
      durationMs: { count: sorted.length, p50: round(q(0.5)), p99: round(q(0.99)), max: round(sorted[sorted.length - 1] ?? 0) },
    };
  }

  function reset(): void {
    const active = counts.active;
    counts = blank();
    counts.active = active;
    durations = [];
  }

  // With reusePort the shared port reaches any one process: each also answers on a port of its own,
  // and gives its raw durations so a bench can combine the processes' percentiles.
  const statsServer = opts.statsPort === undefined ? null : Bun.serve({
    hostname: "127.0.0.1",
    port: opts.statsPort,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/stats" && req.method === "GET") return Response.json({ ...snapshot(), durations });
      if (path === "/stats/reset" && req.method === "POST") return (reset(), Response.json({ ok: true }));
      return new Response("not found", { status: 404 });
    },
  });

  const port = server.port!;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    stats: snapshot,
    reset,
    stop: async () => {
      await statsServer?.stop(true);
      await server.stop(true);
    },
  };
}

function openAiError(status: number, message: string, code: string): Response {
  return Response.json({ error: { message, type: "invalid_request_error", param: null, code } }, { status });
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve(true);
    }, { once: true });
  });
}

function countWords(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let n = 0;
  for (const m of messages) {
    const c = (m as { content?: unknown })?.content;
    if (typeof c === "string") n += c.split(/\s+/).filter(Boolean).length;
  }
  return n;
}

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

if (import.meta.main) {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: env["FAKE_LLM_PORT"] ?? "8089" },
      tokens: { type: "string", default: env["FAKE_LLM_TOKENS"] ?? "20" },
      "interval-ms": { type: "string", default: env["FAKE_LLM_INTERVAL_MS"] ?? "50" },
      "first-token-ms": { type: "string", default: env["FAKE_LLM_FIRST_TOKEN_MS"] ?? "200" },
      seconds: { type: "string", default: env["FAKE_LLM_SECONDS"] },
      models: { type: "string", default: env["FAKE_LLM_MODELS"] ?? "fake-gpt,fake-mini" },
      "api-key": { type: "string", default: env["FAKE_LLM_API_KEY"] },
      "reuse-port": { type: "boolean", default: false },
      "stats-port": { type: "string" },
      "listen-backlog": { type: "string", default: env["FAKE_LLM_LISTEN_BACKLOG"] ?? "auto" },
    },
  });
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) {
      console.error(`fake-llm: --${name} must be a non-negative number`);
      process.exit(2);
    }
    return n;
  };
  let backlog: ReturnType<typeof listenBacklogSetting>;
  try {
    backlog = listenBacklogSetting({ GATEHOUSE_LISTEN_BACKLOG: values["listen-backlog"] });
  } catch {
    console.error("fake-llm: --listen-backlog must be auto, off (or 0), or a positive integer");
    process.exit(2);
  }
  const llm = startFakeLlm({
    port: num("port", values.port),
    tokens: num("tokens", values.tokens),
    intervalMs: num("interval-ms", values["interval-ms"]),
    firstTokenMs: num("first-token-ms", values["first-token-ms"]),
    seconds: num("seconds", values.seconds),
    models: values.models!.split(",").map((s) => s.trim()).filter(Boolean),
    apiKey: values["api-key"] ?? null,
    reusePort: values["reuse-port"],
    statsPort: num("stats-port", values["stats-port"]),
  });
  console.log(`fake-llm ${describeListenBacklog(llm.port, await applyListenBacklog(llm.port, backlog))}`);
  console.log(`fake-llm listening on ${llm.url} (OPENAI_API_BASE_URL=${llm.url})`);
  const stop = () => void llm.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
