import postgres from "postgres";
import type { Logger } from "../observability/logger.ts";
import type { DbMetrics } from "../observability/db-metrics.ts";
import { Permits, type PermitRefusal } from "./permits.ts";
import { currentRequestScope } from "../observability/request-scope.ts";
import { CheckoutTimeoutError, DatabaseUnavailableError, PoolSaturatedError } from "./errors.ts";
import { isConnectionError } from "./connection-errors.ts";
import { CircuitBreaker } from "../faults/circuit-breaker.ts";

/** Two connection failures in a row and the database is down; half a second later one checkout probes it. */
const DB_CIRCUIT = { failureThreshold: 2, cooldownMs: 500 };
/** The probe's own checkout deadline: one request, not the whole pool timeout, finds out whether it is back. */
const PROBE_TIMEOUT_MS = 2000;
/** Ceiling of postgres.js's reconnect backoff (its default grows to 20 s), in seconds: recovery follows the database within a second. */
const RECONNECT_BACKOFF_MAX_S = 0.5;

/** A connection checked out of the pool for the duration of one `run`. */
export type Conn = postgres.ReservedSql<{}>;

/** Settings of the strict pool (DESIGN §5). */
export interface StrictPoolOptions {
  url: string;
  /** DATABASE_POOL_SIZE + DATABASE_POOL_MAX_OVERFLOW. */
  max: number;
  /** DATABASE_POOL_TIMEOUT, in ms. */
  timeoutMs: number;
  maxWaiters: number;
  leakThresholdMs: number;
  prepare: boolean;
  /** Close connections idle this long (seconds); postgres.js semantics. */
  idleTimeoutSeconds?: number;
}

/** A snapshot of the pool's state. */
export interface PoolStats {
  active: number;
  idle: number;
  waiting: number;
  max: number;
  /** Most connections reserved at the same time since start. */
  peak: number;
}

/**
 * The only way Gatehouse touches Postgres. Each {@link StrictPool.run} checks a connection
 * out (waiting at most `timeoutMs`, refused at once when `maxWaiters` are queued), runs
 * one block on it, and releases it. Waits, holds, leaks and timeouts are measured.
 * While the database is down ({@link circuit} open) a checkout is refused at once with a
 * 503 instead of waiting out the pool timeout.
 */
export class StrictPool {
  /** Up or down, as checkouts have seen it (also in `gatehouse_circuit_state{dependency="database"}`). */
  readonly circuit = new CircuitBreaker("database", DB_CIRCUIT);
  readonly #sql: postgres.Sql<{}>;
  readonly #permits: Permits;
  #opened = 0;
  #closed = 0;
  /** Connections reserved from postgres.js right now, and the most at once (independent of the permits). */
  #reserved = 0;
  #peak = 0;
  #ending = false;

  constructor(
    readonly options: StrictPoolOptions,
    private readonly metrics: DbMetrics,
    private readonly log: Logger,
  ) {
    this.#permits = new Permits(options.max, options.maxWaiters);
    this.#sql = postgres(options.url, {
      max: options.max,
      prepare: options.prepare,
      idle_timeout: options.idleTimeoutSeconds ?? 300,
      connect_timeout: Math.max(1, Math.ceil(options.timeoutMs / 1000)),
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, RECONNECT_BACKOFF_MAX_S) * (0.5 + Math.random() / 2),
      onnotice: () => {},
      // postgres.js exposes no "opened" hook; server_version arrives exactly once per new connection.
      onparameter: (key: string) => {
        if (key === "server_version") this.#opened++;
      },
      onclose: () => {
        this.#closed++;
        this.#publishGauges();
      },
      connection: { application_name: "gatehouse" },
    });
    metrics.maxConnections.set(options.max);
    this.#publishGauges();
  }

  /**
   * Checks out a connection, runs `fn` with it, and releases it. `op` is a bounded label
   * (e.g. `user.by_id`) used in metrics and leak reports.
   *
   * @throws PoolSaturatedError when too many checkouts are queued.
   * @throws CheckoutTimeoutError when no connection came within the timeout.
   * @throws DatabaseUnavailableError when the database cannot be reached.
   */
  async run<T>(op: string, fn: (conn: Conn) => Promise<T>): Promise<T> {
    const conn = await this.#checkout(op);
    const heldFrom = performance.now();
    const leakTimer = setTimeout(() => {
      this.metrics.leaks.inc();
      this.log.warn({ op, thresholdMs: this.options.leakThresholdMs }, "database connection held past the leak threshold");
    }, this.options.leakThresholdMs);
    let broken = false;
    try {
      return await fn(conn);
    } catch (e) {
      if (isConnectionError(e)) {
        broken = true;
        this.circuit.failure();
        throw new DatabaseUnavailableError(op, e);
      }
      throw e;
    } finally {
      clearTimeout(leakTimer);
      this.#reserved--;
      // postgres.js has already put a connection that died back in its "closed" queue; releasing it
      // would mark it open again, and the next query on it writes to a socket that is gone (a throw
      // in a timer, which ends the process).
      if (!broken) conn.release();
      this.#permits.release();
      this.metrics.checkoutHold.observe({ op }, (performance.now() - heldFrom) / 1000);
      this.#publishGauges();
    }
  }

  /** Like {@link run}, inside BEGIN … COMMIT (ROLLBACK when `fn` throws). */
  transaction<T>(op: string, fn: (conn: Conn) => Promise<T>): Promise<T> {
    return this.run(op, async (conn) => {
      await conn`begin`;
      try {
        const result = await fn(conn);
        await conn`commit`;
        return result;
      } catch (e) {
        // Not on a dead connection: see run().
        if (!isConnectionError(e)) await conn`rollback`.catch(() => {});
        throw e;
      }
    });
  }

  /**
   * Opens up to `n` connections now, in parallel, and leaves them idle: a burst right after
   * start then checks out open connections instead of waiting for a connect each (a new
   * backend costs milliseconds on a loaded host, the tail of a cold burst's checkout wait).
   * Not checkouts: no permits, not in the checkout metrics. A failure is only logged; the
   * first real checkout reports it.
   */
  async open(n: number): Promise<void> {
    const want = Math.min(n, this.options.max);
    const conns = await Promise.allSettled(Array.from({ length: want }, () => this.#sql.reserve()));
    let failed = 0;
    for (const c of conns) {
      if (c.status === "fulfilled") c.value.release();
      else failed++;
    }
    if (failed > 0) this.log.warn({ wanted: want, failed }, "could not open every database connection at start");
    this.#publishGauges();
  }

  /** Records that one checkout of `op` served a batch of `keys` reads (src/db/batch-loader.ts). */
  noteBatch(op: string, keys: number): void {
    this.metrics.batchKeys.observe({ op }, keys);
  }

  /** Current active/idle/waiting counts. */
  stats(): PoolStats {
    const active = this.#permits.held;
    const open = Math.min(this.options.max, Math.max(active, this.#opened - this.#closed));
    return { active, idle: open - active, waiting: this.#permits.waiting, max: this.options.max, peak: this.#peak };
  }

  /** Refuses queued checkouts and closes connections, waiting up to `timeoutSeconds` for holders. */
  async close(timeoutSeconds = 5): Promise<void> {
    this.#ending = true;
    this.#permits.refuseAll();
    await this.#sql.end({ timeout: timeoutSeconds });
  }

  async #checkout(op: string): Promise<Conn> {
    if (this.#ending) throw new DatabaseUnavailableError(op, new Error("pool is closing"));
    if (!this.circuit.allow()) {
      this.metrics.errors.inc({ op });
      throw new DatabaseUnavailableError(op, new Error("database circuit open"));
    }
    const probing = this.circuit.state === "half_open";
    let conn: Conn;
    try {
      conn = await this.#reserve(op, probing ? Math.min(this.options.timeoutMs, PROBE_TIMEOUT_MS) : this.options.timeoutMs);
    } catch (e) {
      if (e instanceof DatabaseUnavailableError || probing) this.circuit.failure();
      else this.circuit.success();
      throw e;
    }
    this.circuit.success();
    return conn;
  }

  /** A permit, then a postgres.js reservation, both within `timeoutMs`. */
  async #reserve(op: string, timeoutMs: number): Promise<Conn> {
    const started = performance.now();
    const deadline = started + timeoutMs;
    const waited = () => performance.now() - started;
    try {
      const pending = this.#permits.acquire(timeoutMs);
      this.#publishGauges();
      await pending;
    } catch (why) {
      this.#publishGauges();
      if ((why as PermitRefusal) === "saturated") {
        this.metrics.rejected.inc();
        throw new PoolSaturatedError(op);
      }
      throw this.#timedOut(op, waited());
    }
    let conn: Conn;
    try {
      conn = await reserveBefore(this.#sql, deadline);
    } catch (e) {
      this.#permits.release();
      this.#publishGauges();
      if (e === DEADLINE) throw this.#timedOut(op, waited());
      this.metrics.errors.inc({ op });
      throw new DatabaseUnavailableError(op, e);
    }
    if (++this.#reserved > this.#peak) {
      this.#peak = this.#reserved;
      this.metrics.activePeak.set(this.#peak);
    }
    const seconds = waited() / 1000;
    this.metrics.checkoutWait.observe({ op }, seconds);
    const scope = currentRequestScope();
    if (scope) {
      scope.checkouts++;
      scope.waitSeconds += seconds;
    }
    this.#publishGauges();
    return conn;
  }

  #timedOut(op: string, waitedMs: number): CheckoutTimeoutError {
    this.metrics.timeouts.inc();
    this.metrics.checkoutWait.observe({ op }, waitedMs / 1000);
    // The request waited even though it got nothing: its Server-Timing must say so.
    const scope = currentRequestScope();
    if (scope) scope.waitSeconds += waitedMs / 1000;
    return new CheckoutTimeoutError(op, waitedMs);
  }

  #publishGauges(): void {
    const s = this.stats();
    this.metrics.connections.set({ state: "active" }, s.active);
    this.metrics.connections.set({ state: "idle" }, s.idle);
    this.metrics.waiting.set(s.waiting);
  }
}

const DEADLINE = Symbol("deadline");

/** `sql.reserve()` raced against a deadline; a reservation that arrives late is released at once. */
function reserveBefore(sql: postgres.Sql<{}>, deadline: number): Promise<Conn> {
  const reservation = sql.reserve();
  return new Promise<Conn>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(DEADLINE);
    }, Math.max(0, deadline - performance.now()));
    reservation.then(
      (conn) => {
        if (late) return conn.release();
        clearTimeout(timer);
        resolve(conn);
      },
      (e) => {
        if (late) return;
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
