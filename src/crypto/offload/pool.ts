/**
 * The crypto worker pool: piscina running `workers/crypto.worker.ts`, with a bounded queue,
 * per-task failure isolation and a draining close. Settings follow DESIGN §5a's measurements
 * of piscina on Bun: `stricterFIFO` (the default FIFO gave second-long p99s under load), all
 * threads started up front and never idled out, `recordTiming` off (we keep our own metrics).
 */
import { clearUnrefTimer, unrefInterval, type UnrefTimer } from "../../platform.ts";
import { Piscina } from "piscina";
import { CRYPTO_MAX_QUEUE_DEFAULT, defaultArgon2Concurrency, defaultCryptoThreads } from "../../config/crypto-config.ts";
import {
  CryptoPoolClosedError,
  CryptoQueueFullError,
  CryptoTaskError,
  CryptoTaskTimeoutError,
  CryptoWorkerDiedError,
} from "../errors.ts";
import { isArgon2Task, type CryptoOpArgs, type CryptoOpName, type CryptoOpResult } from "./ops.ts";
import {
  decodeTaskError,
  isTestOp,
  type CrashArgs,
  type CryptoTask,
  type TaskOutcome,
  type TestOpName,
} from "./task-protocol.ts";

/** Defaults; `threads` defaults to the number of cores. */
export const CRYPTO_POOL_DEFAULTS = Object.freeze({
  maxQueue: CRYPTO_MAX_QUEUE_DEFAULT,
  /** Bounds every task, queue wait included, so no caller can wait forever on a wedged worker. */
  taskTimeoutMs: 30_000,
  /** Below the event loop (nice 0): measured in bench/results/event-loop.md. */
  nice: 10,
});

/** Why a worker-level failure was counted (see {@link CryptoPoolOptions.onWorkerError}). */
export type WorkerFailureKind = "died" | "timeout" | "error";

/** Options of {@link CryptoPool}. */
export interface CryptoPoolOptions {
  /** Worker threads, all started at once (default: cores). */
  threads?: number;
  /** Tasks that may wait for a thread; one more is refused with `CryptoQueueFullError` (default 256). */
  maxQueue?: number;
  /** Deadline per task from submission, in ms; 0 disables (default 30 000). */
  taskTimeoutMs?: number;
  /** Enables test-only ops (`crash`). Never in production. */
  allowTestOps?: boolean;
  /** Called once per worker-level failure: a death or deadline that failed a task, or a stray worker error. */
  onWorkerError?: (kind: WorkerFailureKind) => void;
  /**
   * Nice value (1–19) each worker thread gives itself at start, so the event loop preempts
   * hashing while idle cores still hash at full speed; 0 leaves the threads at the process's
   * priority (default {@link CRYPTO_POOL_DEFAULTS.nice}). A no-op where the runtime has no FFI.
   */
  nice?: number;
  /**
   * argon2id tasks (see `isArgon2Task`) running at once, 1–threads (default: half the threads,
   * at least 1). Further ones wait, counted in the queue, while other ops still use every
   * thread: argon2 at 64 MiB is bound by memory bandwidth, so more at once bought no throughput
   * and slowed the event loop (bench/results/event-loop-argon2-cause.md).
   */
  argon2Concurrency?: number;
  /** The task module (default: `workers/crypto.worker.ts`); for tests of the pool itself. */
  filename?: string | URL;
}

const WORKER_URL = new URL("../../../workers/crypto.worker.ts", import.meta.url);

/** A caller's task as the deadline sweep sees it. */
interface Pending {
  readonly op: string;
  readonly deadline: number;
  readonly reject: (err: Error) => void;
}

/**
 * A worker pool running crypto ops; see the module comment.
 *
 * Two piscina 5.3.2 behaviours shape this class (both seen on Bun and Deno): a task given an
 * `AbortSignal` that cannot start at once goes to an internal skip queue that `maxQueue` does not
 * count and that is served newest-first. So no signals are passed: the queue bound is enforced
 * here, and deadlines are a sweep that fails overdue callers (the thread itself stays busy until
 * its op returns, and `close()` terminates it).
 */
export class CryptoPool {
  /** Worker threads. */
  readonly threads: number;
  /** Queue bound. */
  readonly maxQueue: number;
  readonly #piscina: Piscina<CryptoTask, TaskOutcome>;
  readonly #allowTestOps: boolean;
  readonly #taskTimeoutMs: number;
  readonly #onWorkerError: (kind: WorkerFailureKind) => void;
  /** Most argon2id tasks handed to piscina at once. */
  readonly argon2Concurrency: number;
  /** argon2id tasks handed to piscina and not yet settled. */
  #argon2Running = 0;
  /** argon2id tasks waiting for a slot, oldest first; each starts its task (or skips it if already answered). */
  readonly #argon2Waiting: Array<() => void> = [];
  /** Tasks submitted and not yet settled (waiting for an argon2 slot, queued in piscina, or running). */
  #inFlight = 0;
  /** Callers not yet answered (a deadline answers a caller before piscina settles). */
  #unanswered = 0;
  readonly #pending = new Set<Pending>();
  readonly #sweeper: UnrefTimer | null;
  #closing: Promise<void> | null = null;
  #allAnswered: (() => void) | null = null;

  constructor(opts: CryptoPoolOptions = {}) {
    this.threads = opts.threads ?? defaultCryptoThreads();
    this.maxQueue = opts.maxQueue ?? CRYPTO_POOL_DEFAULTS.maxQueue;
    this.#taskTimeoutMs = opts.taskTimeoutMs ?? CRYPTO_POOL_DEFAULTS.taskTimeoutMs;
    this.#allowTestOps = opts.allowTestOps === true;
    this.#onWorkerError = opts.onWorkerError ?? (() => {});
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new RangeError("CryptoPool: threads must be an integer ≥ 1");
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 0) throw new RangeError("CryptoPool: maxQueue must be an integer ≥ 0");
    if (!(this.#taskTimeoutMs >= 0)) throw new RangeError("CryptoPool: taskTimeoutMs must be ≥ 0");
    this.argon2Concurrency = opts.argon2Concurrency ?? defaultArgon2Concurrency(this.threads);
    if (!Number.isInteger(this.argon2Concurrency) || this.argon2Concurrency < 1 || this.argon2Concurrency > this.threads) {
      throw new RangeError("CryptoPool: argon2Concurrency must be an integer from 1 to threads");
    }
    const nice = opts.nice ?? CRYPTO_POOL_DEFAULTS.nice;
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new RangeError("CryptoPool: nice must be an integer 0–19");
    const filename = opts.filename ?? WORKER_URL;
    this.#piscina = new Piscina<CryptoTask, TaskOutcome>({
      filename: filename instanceof URL ? filename.href : filename,
      minThreads: this.threads,
      maxThreads: this.threads,
      // A backstop only: the bound that holds is checked in run().
      maxQueue: this.maxQueue,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      stricterFIFO: true,
      recordTiming: false,
      workerData: { allowTestOps: this.#allowTestOps, nice },
    });
    // piscina emits 'error' for a worker that failed with no task in flight; unlistened, an
    // EventEmitter 'error' would throw and take the whole process down.
    this.#piscina.on("error", () => this.#onWorkerError("error"));
    this.#sweeper = null;
    if (this.#taskTimeoutMs > 0) {
      // An idle pool must not keep the process alive.
      this.#sweeper = unrefInterval(() => this.#sweep(), Math.min(1000, Math.max(10, this.#taskTimeoutMs / 4)));
    }
  }

  /** Tasks waiting for a free thread (or, for argon2id tasks, a free argon2 slot). */
  get queueDepth(): number {
    return this.#piscina.queueSize + this.#argon2Waiting.length;
  }

  /** Tasks submitted and not yet settled (queued + running). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Fraction of threads running a task right now, 0–1. */
  get utilization(): number {
    const running = this.#inFlight - this.queueDepth;
    return Math.min(1, Math.max(0, running / this.threads));
  }

  /** Whether {@link close} has been called. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /**
   * Runs `op` on a worker thread. Rejects with the op's own expected error (same class and code as
   * inline), or `CryptoQueueFullError`, `CryptoWorkerDiedError`, `CryptoTaskTimeoutError`,
   * `CryptoPoolClosedError`, `CryptoTaskError`.
   */
  run<N extends CryptoOpName>(op: N, args: CryptoOpArgs<N>): Promise<CryptoOpResult<N>>;
  /** Test-only ops; rejected with `CryptoTaskError` unless the pool allows test ops. */
  run(op: TestOpName, args: CrashArgs | null): Promise<never>;
  run(op: string, args: unknown): Promise<unknown> {
    if (this.#closing !== null) return Promise.reject(new CryptoPoolClosedError(op));
    if (isTestOp(op) && !this.#allowTestOps) return Promise.reject(new CryptoTaskError(op, "TestOpNotAllowed"));
    if (this.#inFlight >= this.threads + this.maxQueue) return Promise.reject(new CryptoQueueFullError(op));
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    let answered = false;
    const answer = (fn: () => void): void => {
      if (answered) return;
      answered = true;
      if (entry !== null) this.#pending.delete(entry);
      fn();
      if (--this.#unanswered === 0) this.#allAnswered?.();
    };
    const entry: Pending | null =
      this.#taskTimeoutMs > 0
        ? { op, deadline: performance.now() + this.#taskTimeoutMs, reject: (e) => answer(() => reject(e)) }
        : null;
    if (entry !== null) this.#pending.add(entry);
    this.#inFlight++;
    this.#unanswered++;
    const argon2 = isArgon2Task(op, args);
    const start = (): void => {
      if (argon2 && answered) {
        // Its deadline passed while it waited for a slot: nobody wants the result.
        this.#inFlight--;
        this.#argon2Done();
        return;
      }
      this.#piscina.run({ op, args }).then(
        (outcome) => {
          this.#inFlight--;
          if (argon2) this.#argon2Done();
          answer(() => (outcome.ok ? resolve(outcome.value) : reject(decodeTaskError(op, outcome.error))));
        },
        (err: unknown) => {
          this.#inFlight--;
          if (argon2) this.#argon2Done();
          const failure = this.#poolFailure(op, err);
          answer(() => reject(failure));
        },
      );
    };
    if (!argon2) start();
    else if (this.#argon2Running < this.argon2Concurrency) {
      this.#argon2Running++;
      start();
    } else this.#argon2Waiting.push(start);
    return promise;
  }

  /** An argon2id task settled (or was skipped): its slot goes to the oldest waiting one. */
  #argon2Done(): void {
    const next = this.#argon2Waiting.shift();
    if (next !== undefined) next();
    else this.#argon2Running--;
  }

  /** Starts every thread's task module now (the first task on a thread would otherwise load it). */
  async warmUp(): Promise<void> {
    await Promise.all(Array.from({ length: this.threads }, () => this.run("noop", null)));
  }

  /**
   * Stops taking tasks (new ones get `CryptoPoolClosedError`), waits until every queued and running
   * task has been answered (result, error or deadline), then terminates the threads. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#unanswered > 0) await new Promise<void>((resolve) => (this.#allAnswered = resolve));
      if (this.#sweeper !== null) clearUnrefTimer(this.#sweeper);
      await this.#piscina.destroy();
    })();
    return this.#closing;
  }

  /** Fails callers whose deadline has passed; entries are in submission order, so deadline order. */
  #sweep(): void {
    const now = performance.now();
    for (const entry of this.#pending) {
      if (entry.deadline > now) break;
      this.#onWorkerError("timeout");
      entry.reject(new CryptoTaskTimeoutError(entry.op));
    }
  }

  /** Maps a piscina rejection (never an op's failure: those come back as outcomes) to our errors. */
  #poolFailure(op: string, err: unknown): Error {
    const name = err instanceof Error ? err.name : "";
    const message = err instanceof Error ? err.message : "";
    if (message === "Task queue is at limit" || message === "No task queue available and all Workers are busy") {
      return new CryptoQueueFullError(op);
    }
    if (name === "DataCloneError") return new CryptoTaskError(op, name);
    if (message === "Terminating worker thread") return new CryptoPoolClosedError(op);
    this.#onWorkerError("died");
    return new CryptoWorkerDiedError(op);
  }
}
