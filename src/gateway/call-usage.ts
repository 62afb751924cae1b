import type { UsageOutcome, UsageRecord } from "../db/repos/usage.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";
import type { UsageRecorder } from "./usage-recorder.ts";
import type { Upstream } from "./upstreams.ts";
import type { TokenUsage } from "./sse.ts";

/** The parts of a forwarded chat call that its usage row and metrics describe. */
export interface UsageCall {
  userId: string;
  /** Route template, a bounded metric label. */
  route: string;
  model: string;
  stream: boolean;
  upstream: Pick<Upstream, "index">;
  /** Called once when the call has ended. */
  onEnd?: () => void;
}

/**
 * One chat call's usage bookkeeping: its usage row (queued as `started` when the call begins
 * and again, with its outcome, at the end: the same row id both times) and its gateway metrics
 * (active streams, calls, duration, time to first byte).
 */
export class CallUsage {
  /** The usage row's id: its start and its end are the same row. */
  readonly #id = crypto.randomUUID();
  readonly #t0 = performance.now();
  readonly #startedAt = Date.now();
  #firstByteMs: number | null = null;
  /** The upstream's HTTP status, once it answered. */
  status: number | null = null;

  constructor(private readonly call: UsageCall, private readonly usage: UsageRecorder, private readonly metrics: GatewayMetrics) {}

  /** The call begins: counted as an active stream, and its row written as `started`. */
  start(): void {
    this.metrics.streamsActive.inc();
    // Written now, so a crash mid-call leaves a row for the reaper to close rather than nothing.
    this.usage.record(this.#row("started", null, 0));
  }

  /** The first byte (or, for a whole response, the response) arrived now. */
  markFirstByte(): void {
    this.#firstByteMs = performance.now() - this.#t0;
  }

  /** The call ended with `outcome`: the metrics, the call's `onEnd`, and the completed row. Call once. */
  finish(outcome: UsageOutcome, usage: TokenUsage | null): void {
    const { call, metrics } = this;
    const durationMs = performance.now() - this.#t0;
    const stream = String(call.stream);
    metrics.streamsActive.dec();
    call.onEnd?.();
    metrics.calls.inc({ route: call.route, outcome });
    metrics.duration.observe({ stream }, durationMs / 1000);
    if (this.#firstByteMs !== null) metrics.firstByte.observe({ stream }, this.#firstByteMs / 1000);
    this.usage.record(this.#row(outcome, usage, durationMs));
  }

  #row(outcome: UsageOutcome, usage: TokenUsage | null, durationMs: number): UsageRecord {
    const { call } = this;
    return {
      id: this.#id,
      user_id: call.userId,
      model: call.model,
      upstream: call.upstream.index,
      stream: call.stream,
      prompt_tokens: usage?.promptTokens ?? null,
      completion_tokens: usage?.completionTokens ?? null,
      started_at: Math.floor(this.#startedAt / 1000),
      duration_ms: Math.round(durationMs),
      first_byte_ms: this.#firstByteMs === null ? null : Math.round(this.#firstByteMs),
      upstream_status: this.status,
      outcome,
    };
  }
}
