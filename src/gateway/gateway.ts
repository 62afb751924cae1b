import type { Services } from "../services.ts";
import type { Principal } from "../auth/current-user.ts";
import { ModelAccessRepo } from "../db/repos/model-access.ts";
import { UsageRepo } from "../db/repos/usage.ts";
import { json } from "../http/respond.ts";
import { createGatewayMetrics, type GatewayMetrics } from "./gateway-metrics.ts";
import { ModelAccess } from "./model-access.ts";
import { ModelDirectory, upstreamsFrom, type Upstream } from "./upstreams.ts";
import { UsageRecorder } from "./usage-recorder.ts";
import { UsageReaper } from "./usage-reaper.ts";
import { ChatProxy } from "./chat-proxy.ts";
import { fetchConcurrencyCap } from "../platform.ts";
import { InvalidChatRequestError, ModelAccessDeniedError, NoUpstreamError, quote } from "./gateway-errors.ts";
import { duplicateKey } from "./json-duplicates.ts";
import { StreamSlots } from "./stream-slots.ts";

/** Model lists are fresh this long. */
const MODELS_TTL_MS = 60_000;
/** Longest a model id that is not listed can force a reload of the lists (several upstreams). */
const MODELS_MIN_REFRESH_MS = 5_000;
/** A non-streaming answer larger than this is refused (502). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Below this Bun's fetch cap throttles streams noticeably; say so at boot. */
const BUN_FETCH_CAP_WARNING = 1024;

/** The OpenAI-compatible chat gateway: the long-request path (DESIGN §1). */
export interface Gateway {
  readonly upstreams: readonly Upstream[];
  readonly directory: ModelDirectory;
  readonly access: ModelAccess;
  readonly accessRepo: ModelAccessRepo;
  readonly usageRepo: UsageRepo;
  readonly usage: UsageRecorder;
  readonly metrics: GatewayMetrics;
  /** Per-user cap on concurrent chat calls, on this instance. */
  readonly slots: StreamSlots;
  /** Checks access (cached; one short checkout on a miss) and forwards the call. */
  chat(principal: Principal, request: Request, route: string): Promise<Response>;
  /** The models `principal` may call, OpenAI's list shape. */
  models(principal: Principal): Promise<Response>;
  start(): Promise<void>;
  /** Writes the usage rows still queued. */
  stop(): Promise<void>;
}

/** Builds the gateway on the instance's services. */
export function createGateway(s: Services): Gateway {
  const upstreams = upstreamsFrom(s.config.openai);
  const metrics = createGatewayMetrics(s.registry);
  const accessRepo = new ModelAccessRepo(s.pool);
  const instanceId = crypto.randomUUID();
  const usageRepo = new UsageRepo(s.pool, instanceId);
  const reaper = new UsageReaper(s.pool, instanceId, s.config.faults.instanceHeartbeatMs, s.log);
  const access = new ModelAccess(accessRepo, s.store);
  const usage = new UsageRecorder(usageRepo, metrics, s.log);
  const timeoutMs = s.config.openai.timeoutMs;
  const directory = new ModelDirectory(upstreams, {
    ttlMs: MODELS_TTL_MS,
    timeoutMs: Math.min(timeoutMs, 10_000),
    minRefreshMs: MODELS_MIN_REFRESH_MS,
    log: s.log,
  });
  const proxy = new ChatProxy({ timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES, usage, metrics, log: s.log });
  const slots = new StreamSlots(s.config.openai.maxStreamsPerUser);

  return {
    upstreams, directory, access, accessRepo, usageRepo, usage, metrics, slots,

    async chat(principal, request, route) {
      if (upstreams.length === 0) throw new NoUpstreamError();
      const { model, stream, body } = parseChatRequest(new Uint8Array(await request.arrayBuffer()));
      if (!(await access.allows(principal.user, model))) throw new ModelAccessDeniedError(model);
      const upstream = await directory.upstreamFor(model);
      const release = slots.take(principal.user.id);
      try {
        return await proxy.forward({ userId: principal.user.id, route, request, body, model, stream, upstream, onEnd: release });
      } catch (e) {
        release();
        throw e;
      }
    },

    async models(principal) {
      const [entries, grants] = await Promise.all([directory.list(), access.grants(principal.user)]);
      const data = entries.filter((m) => grants.all || grants.models.has(m.id)).map((m) => m.raw);
      return json({ object: "list", data });
    },

    async start() {
      await access.start();
      await reaper.start();
      const cap = fetchConcurrencyCap(s.config.runtime.bunMaxHttpRequests);
      if (upstreams.length > 0 && cap !== null && cap < BUN_FETCH_CAP_WARNING) {
        s.log.warn(
          { cap },
          `Bun runs at most ${cap} fetch() requests at once, so LLM streams beyond that wait in line; set BUN_CONFIG_MAX_HTTP_REQUESTS=65535 in the environment (or .env)`,
        );
      }
    },

    async stop() {
      await access.stop();
      await usage.stop();
      await reaper.stop();
    },
  };
}

/** Keys the gateway routes and bills by; any other spelling of them could be read instead upstream. */
const ROUTING_KEYS = ["model", "stream"] as const;

/**
 * `model` and `stream` of a chat completion request, and the body to forward: re-serialised
 * from what was checked, never the client's bytes, so the upstream cannot read a model other
 * than the one access was checked for. Refuses duplicate keys (parsers disagree on which one
 * wins) and case variants of `model`/`stream` (Go's encoding/json matches keys case-insensitively).
 */
export function parseChatRequest(raw: Uint8Array): { model: string; stream: boolean; body: Uint8Array<ArrayBuffer> } {
  let parsed: unknown;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidChatRequestError("Malformed request body: expected valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidChatRequestError("Invalid request: expected a JSON object");
  }
  const duplicate = duplicateKey(text);
  if (duplicate !== null) throw new InvalidChatRequestError(`Invalid request: duplicate key '${quote(duplicate)}'`);
  for (const key of Object.keys(parsed)) {
    const routing = ROUTING_KEYS.find((k) => k !== key && k === key.toLowerCase());
    if (routing) throw new InvalidChatRequestError(`Invalid request: '${quote(key)}' is a case variant of '${routing}'`);
  }
  const { model, stream } = parsed as { model?: unknown; stream?: unknown };
  if (typeof model !== "string" || model.trim() === "") throw new InvalidChatRequestError("Invalid field 'model': expected a model id");
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") throw new InvalidChatRequestError("Invalid field 'stream': expected true or false");
  return { model, stream: stream === true, body: new TextEncoder().encode(JSON.stringify(parsed)) };
}
