import { ServiceError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { UsageOutcome } from "../db/repos/usage.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";
import type { UsageRecorder } from "./usage-recorder.ts";
import { upstreamHeaders, type Upstream } from "./upstreams.ts";
import { SseScanner, usageOf, type TokenUsage } from "./sse.ts";
import {
  ClientClosedError, UpstreamErrorEventError, UpstreamMalformedError, UpstreamStatusError, UpstreamTimeoutError, UpstreamUnreachableError,
} from "./gateway-errors.ts";
import { exhaustionCode, isLocalExhaustion, LocalExhaustionError } from "./local-exhaustion.ts";
import { CallUsage } from "./call-usage.ts";
import { errorEvent, networkReason, passedHeaders, readBody, summarize } from "./upstream-response.ts";

/** One chat completion to forward. The body is sent upstream as given (re-serialised by the gateway). */
export interface ChatCall {
  userId: string;
  /** Route template, a bounded metric label. */
  route: string;
  /** The client's request: its `signal` aborts the upstream call when the client goes away. */
  request: Request;
  body: Uint8Array<ArrayBuffer>;
  model: string;
  stream: boolean;
  upstream: Upstream;
  /** Called once when the call has ended (completed, failed or abandoned by the client). */
  onEnd?: () => void;
}

/** What the {@link ChatProxy} is built on. */
export interface ChatProxyOptions {
  /** GATEHOUSE_UPSTREAM_TIMEOUT_MS: longest wait for any progress from the upstream. */
  timeoutMs: number;
  /** Largest non-streaming response body accepted. */
  maxResponseBytes: number;
  usage: UsageRecorder;
  metrics: GatewayMetrics;
  log: Logger;
}

const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * Forwards chat completions. Holds no database connection at any point: the caller did its
 * checkouts before, and the usage row is queued on the {@link UsageRecorder} as `started`
 * when the call begins and again, completed, after the end.
 *
 * Streaming: the upstream's bytes pass through unchanged, chunk by chunk, pulled only as
 * fast as the client reads. The response starts once the first event arrived, so a failing
 * or malformed upstream still gets a proper 5xx status and detail; after that, a failure is
 * reported as a final `data: {"error": ...}` event. The client going away (stream cancelled
 * or request aborted) aborts the upstream request.
 */
export class ChatProxy {
  constructor(private readonly opts: ChatProxyOptions) {}

  async forward(call: ChatCall): Promise<Response> {
    return new UpstreamCall(call, this.opts).run();
  }
}

type Stop = "client" | "timeout" | "done";
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>["read"]>>;

/** One forwarded call: its abort controller, progress timer and end-of-call bookkeeping. */
class UpstreamCall {
  readonly #abort = new AbortController();
  readonly #usage: CallUsage;
  #stop: Stop | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** When the pending upstream wait began; null between reads. */
  #waitingSince: number | null = null;
  #finished = false;
  readonly #onClientAbort = () => this.#halt("client");

  constructor(private readonly call: ChatCall, private readonly opts: ChatProxyOptions) {
    this.#usage = new CallUsage(call, opts.usage, opts.metrics);
  }

  async run(): Promise<Response> {
    const { call, opts } = this;
    this.#usage.start();
    if (call.request.signal.aborted) this.#halt("client");
    else call.request.signal.addEventListener("abort", this.#onClientAbort, { once: true });

    let res: Response;
    try {
      res = await this.#progress(fetch(`${call.upstream.baseUrl}/chat/completions`, {
        method: "POST",
        headers: upstreamHeaders(call.upstream, {
          "content-type": "application/json",
          accept: call.stream ? "text/event-stream" : "application/json",
        }),
        body: call.body,
        signal: this.#abort.signal,
      }));
    } catch (e) {
      throw this.#fail(e, "upstream_unreachable");
    }
    this.#usage.status = res.status;
    if (!call.stream) this.#usage.markFirstByte();

    if (!res.ok) {
      let message: string | null = null;
      try {
        message = summarize(await this.#readAll(res, ERROR_BODY_LIMIT, true));
      } catch (e) {
        if (this.#stop === "client") throw this.#fail(e, "client_closed");
      }
      this.#finish("upstream_error", null);
      throw new UpstreamStatusError(res.status, message);
    }
    return call.stream ? this.#streaming(res) : this.#whole(res);
  }

  /** Non-streaming: the whole body, checked to be JSON, passed on byte for byte. */
  async #whole(res: Response): Promise<Response> {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await this.#readAll(res, this.opts.maxResponseBytes, false);
    } catch (e) {
      if (e instanceof ServiceError) {
        this.#finish("upstream_malformed", null);
        throw e;
      }
      throw this.#fail(e, "upstream_error");
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      this.#finish("upstream_malformed", null);
      throw new UpstreamMalformedError("the response body is not JSON");
    }
    this.#finish("completed", usageOf(parsed));
    return new Response(bytes, { status: res.status, headers: passedHeaders(res, "application/json") });
  }

  /** Streaming: waits for the first event, then pipes the rest as the client pulls it. */
  async #streaming(res: Response): Promise<Response> {
    const type = res.headers.get("content-type") ?? "";
    if (!type.toLowerCase().startsWith("text/event-stream") || !res.body) {
      await res.body?.cancel().catch(() => {});
      this.#finish("upstream_malformed", null);
      throw new UpstreamMalformedError(`expected text/event-stream for a streaming request, got ${type ? type.split(";")[0] : "no content type"}`);
    }
    const reader = res.body.getReader();
    const scanner = new SseScanner();
    const head: Uint8Array<ArrayBuffer>[] = [];
    while (scanner.events === 0) {
      let r: ReadResult;
      try {
        r = await this.#progress(reader.read());
      } catch (e) {
        throw this.#fail(e, "upstream_error");
      }
      if (r.done) {
        this.#finish("upstream_malformed", null);
        throw new UpstreamMalformedError("the event stream ended before its first event");
      }
      head.push(r.value);
      scanner.push(r.value);
    }
    this.#usage.markFirstByte();
    if (scanner.malformed !== null || scanner.upstreamError !== null) {
      this.#halt("done");
      reader.cancel().catch(() => {});
      if (scanner.malformed !== null) {
        this.#finish("upstream_malformed", null);
        throw new UpstreamMalformedError(scanner.malformed);
      }
      this.#finish("upstream_error", null);
      throw new UpstreamErrorEventError(scanner.upstreamError!);
    }

    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const queued = head.shift();
          if (queued) return controller.enqueue(queued);
          let r: ReadResult;
          try {
            r = await this.#progress(reader.read());
          } catch (e) {
            if (this.#stop === "client") {
              this.#finish("client_closed", scanner.usage);
              return controller.close();
            }
            const outcome: UsageOutcome = this.#stop === "timeout" ? "upstream_timeout" : "upstream_error";
            const err = this.#fail(e, outcome);
            controller.enqueue(errorEvent(err));
            return controller.close();
          }
          if (r.done) {
            this.#finish(scanner.sawDone ? "completed" : "upstream_error", scanner.usage);
            return controller.close();
          }
          scanner.push(r.value);
          controller.enqueue(r.value);
          if (scanner.malformed !== null) {
            this.#halt("done");
            reader.cancel().catch(() => {});
            this.#finish("upstream_malformed", scanner.usage);
            controller.enqueue(errorEvent(new UpstreamMalformedError(scanner.malformed)));
            controller.close();
          }
        },
        cancel: () => {
          this.#halt("client");
          reader.cancel().catch(() => {});
          this.#finish("client_closed", scanner.usage);
        },
      },
      { highWaterMark: 0 },
    );
    const headers = passedHeaders(res, "text/event-stream");
    headers.set("cache-control", "no-cache");
    headers.set("x-accel-buffering", "no");
    return new Response(body, { status: res.status, headers });
  }

  /**
   * Awaits `p` under the progress timer: one wait longer than the timeout aborts the call (the
   * client's pulls do not count). One timer per call, re-armed when it fires: a timer per read
   * (per chunk) was ≈ 5 % of the gateway's CPU under 10,000 streams.
   */
  async #progress<T>(p: Promise<T>): Promise<T> {
    if (this.#stop !== null) {
      p.catch(() => {});
      throw new Error("call already stopped");
    }
    this.#waitingSince = performance.now();
    this.#timer ??= setTimeout(this.#onProgressTimer, this.opts.timeoutMs);
    try {
      return await p;
    } finally {
      this.#waitingSince = null;
    }
  }

  /** Times out a wait that lasted the timeout, else re-arms for its remainder (not between reads). */
  readonly #onProgressTimer = (): void => {
    this.#timer = null;
    if (this.#waitingSince === null || this.#stop !== null) return;
    const left = this.opts.timeoutMs - (performance.now() - this.#waitingSince);
    if (left > 0) this.#timer = setTimeout(this.#onProgressTimer, left); else this.#halt("timeout");
  };

  /** Reads a body up to `limit` bytes, each read under the progress timer. */
  #readAll(res: Response, limit: number, truncate: boolean): Promise<Uint8Array<ArrayBuffer>> {
    return readBody(res, limit, truncate, (p) => this.#progress(p));
  }

  /** Stops the call: aborts the upstream request (the first reason wins). */
  #halt(why: Stop): void {
    if (this.#stop !== null) return;
    this.#stop = why;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (why !== "done") this.#abort.abort();
  }

  /** Classifies a failure (client gone, timeout, or `otherwise`), records it, returns the error to answer with. */
  #fail(e: unknown, otherwise: UsageOutcome): ServiceError {
    if (this.#stop === "client") {
      this.#finish("client_closed", null);
      return new ClientClosedError();
    }
    if (this.#stop === "timeout") {
      this.#finish("upstream_timeout", null);
      return new UpstreamTimeoutError(this.opts.timeoutMs);
    }
    this.#halt("done");
    if (otherwise === "upstream_unreachable" && isLocalExhaustion(e)) {
      const code = exhaustionCode(e);
      this.#finish("local_exhaustion", null);
      this.opts.metrics.localExhaustion.inc({ code });
      this.opts.log.warn({ upstream: this.call.upstream.index, code }, "out of local descriptors/ports: upstream call refused with 503");
      return new LocalExhaustionError(code);
    }
    this.#finish(otherwise, null);
    if (e instanceof ServiceError) return e;
    const reason = networkReason(e);
    this.opts.log.warn({ upstream: this.call.upstream.index, err: (e as Error)?.message, outcome: otherwise }, "LLM upstream call failed");
    return otherwise === "upstream_unreachable"
      ? new UpstreamUnreachableError(reason)
      : new UpstreamUnreachableError(`${reason} before the response was complete`);
  }

  /** Records the call's end once: metrics and the usage row. */
  #finish(outcome: UsageOutcome, usage: TokenUsage | null): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#stop === null) this.#stop = "done";
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.call.request.signal.removeEventListener("abort", this.#onClientAbort);
    this.#usage.finish(outcome, usage);
  }
}
