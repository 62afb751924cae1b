import type { Logger } from "../observability/logger.ts";
import type { UsageRecord, UsageRepo } from "../db/repos/usage.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";
import { outsideRequestScope } from "../observability/request-scope.ts";

export interface UsageRecorderOptions {
  /** Rows per INSERT. */
  maxBatch: number;
  /** Rows kept waiting while the database is unavailable; beyond this the oldest are dropped. */
  maxPending: number;
  /** Wait before retrying a failed write. */
  retryMs: number;
}

const DEFAULTS: UsageRecorderOptions = { maxBatch: 500, maxPending: 50_000, retryMs: 1000 };

/**
 * Writes `gatehouse_usage` rows behind the streams: a row is queued when its call starts
 * (`started`) and again when it ends, and written within a tick, together with every other
 * row queued meanwhile, one statement per batch and one batch at a time. So a thousand
 * streams ending in the same second cost a handful of short checkouts, not a thousand
 * queued ones. A call's end queued before its start was written replaces it in the queue.
 * Failed writes are retried.
 */
export class UsageRecorder {
  readonly #opts: UsageRecorderOptions;
  /** By row id, oldest first. */
  readonly #pending = new Map<string, UsageRecord>();
  #flushing: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly repo: UsageRepo,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    opts: Partial<UsageRecorderOptions> = {},
  ) {
    this.#opts = { ...DEFAULTS, ...opts };
  }

  /** Rows queued and not yet written. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Queues a row (a call's start or its end, by the same id); it is written within a tick. */
  record(row: UsageRecord): void {
    if (!this.#pending.has(row.id) && this.#pending.size >= this.#opts.maxPending) {
      const oldest = this.#pending.keys().next();
      if (oldest.done !== true) this.#pending.delete(oldest.value);
      this.metrics.usageRowsDropped.inc();
    }
    this.#pending.set(row.id, row);
    this.#schedule(0);
  }

  /** Writes what is queued now (shares a write already running). */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  /** Resolves once every row queued so far is written (or a write failed). For shutdown and tests. */
  async settled(): Promise<void> {
    while (this.#flushing || this.#pending.size > 0) {
      const before = this.#pending.size;
      await this.flush();
      if (this.#pending.size >= before && before > 0) return;
    }
  }

  /** Stops the timer and makes one last attempt to write what is queued. */
  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.settled();
    if (this.#pending.size > 0) this.log.warn({ rows: this.#pending.size }, "usage rows not written at shutdown");
  }

  #schedule(ms: number): void {
    if (this.#timer) return;
    // A row queued while serving a request is written for no request in particular.
    this.#timer = outsideRequestScope(() => setTimeout(() => {
      this.#timer = null;
      void this.flush().then(() => {
        if (this.#pending.size > 0 && this.#timer === null) this.#schedule(0);
      });
    }, ms));
  }

  async #drain(): Promise<void> {
    while (this.#pending.size > 0) {
      const batch: UsageRecord[] = [];
      for (const row of this.#pending.values()) {
        if (batch.length >= this.#opts.maxBatch) break;
        batch.push(row);
      }
      for (const row of batch) this.#pending.delete(row.id);
      try {
        await this.repo.insertMany(batch);
        // Counted once per call, at its end.
        this.metrics.usageRowsWritten.inc(batch.filter((r) => r.outcome !== "started").length);
      } catch (e) {
        // Back in the queue, unless a newer state of the same call was queued meanwhile.
        for (const row of batch) if (!this.#pending.has(row.id)) this.#pending.set(row.id, row);
        this.metrics.usageWriteFailures.inc();
        this.log.warn({ rows: batch.length, err: (e as Error).message }, "writing usage rows failed; will retry");
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = null;
        this.#schedule(this.#opts.retryMs);
        return;
      }
    }
  }
}
