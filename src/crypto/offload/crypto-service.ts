/**
 * The one entry point for crypto work: `run(op, args)` routes each op inline or to the worker
 * pool as the policy decided at startup, and records metrics. Both placements run the same op
 * table and fail the same way (expected errors unchanged, anything else `CryptoTaskError`), so
 * callers never need to know where an op ran.
 */
import type { Registry } from "prom-client";
import type { CryptoConfig } from "../../config/crypto-config.ts";
import { createCryptoMetrics, type CryptoMetrics } from "../../observability/crypto-metrics.ts";
import { calibrateCrypto, type CalibrateOptions } from "./calibration.ts";
import { CryptoQueueFullError } from "../errors.ts";
import { CRYPTO_OP_NAMES, runCryptoOp, type CryptoOpArgs, type CryptoOpName, type CryptoOpResult } from "./ops.ts";
import {
  decidePlacements,
  needsCalibration,
  type CryptoCalibration,
  type CryptoPlacement,
  type CryptoPolicy,
  type PlacementDecision,
} from "./policy.ts";
import { CryptoPool, type CryptoPoolOptions } from "./pool.ts";
import { normaliseInlineError } from "./task-protocol.ts";

/** Options of {@link CryptoService.create}. */
export interface CryptoServiceOptions {
  /** Where the crypto metrics are registered. */
  registry: Registry;
  /** The policy and the pool's size (`Config.crypto`). */
  config: CryptoConfig;
  /** Further pool options (tests: deadlines, test ops, another task module). */
  pool?: Omit<CryptoPoolOptions, "onWorkerError" | "threads" | "maxQueue">;
  /** A known calibration: skips measuring (tests, or a figure remembered from a previous boot). */
  calibration?: CryptoCalibration;
  /** Options for measuring, when `calibration` is not given and the policy needs one. */
  calibrate?: CalibrateOptions;
}

/** The service's configuration and decisions as plain data, for the startup log. */
export interface CryptoServiceReport {
  readonly policy: CryptoPolicy;
  readonly pool: { readonly threads: number; readonly maxQueue: number; readonly argon2Concurrency: number } | null;
  readonly calibration: CryptoCalibration | null;
  readonly placements: Readonly<Record<CryptoOpName, PlacementDecision>>;
}

interface Route {
  readonly where: CryptoPlacement;
  readonly timer: { observe(seconds: number): void };
}

/** Routes crypto ops inline or to the pool; see the module comment. */
export class CryptoService {
  readonly #pool: CryptoPool | null;
  readonly #routes: Readonly<Record<CryptoOpName, Route>>;
  readonly #metrics: CryptoMetrics;
  readonly #report: CryptoServiceReport;

  private constructor(pool: CryptoPool | null, metrics: CryptoMetrics, report: CryptoServiceReport) {
    this.#pool = pool;
    this.#metrics = metrics;
    this.#report = report;
    const routes = {} as Record<CryptoOpName, Route>;
    for (const op of CRYPTO_OP_NAMES) {
      const where = report.placements[op].where;
      routes[op] = { where, timer: metrics.taskSeconds.labels(op, where) };
      metrics.policy.labels(op, "inline").set(where === "inline" ? 1 : 0);
      metrics.policy.labels(op, "pool").set(where === "pool" ? 1 : 0);
    }
    this.#routes = routes;
  }

  /**
   * Builds the service: starts the pool when any op may use it, calibrates when the policy has
   * `auto` ops to decide and no calibration was given, and fixes every op's placement.
   */
  static async create(opts: CryptoServiceOptions): Promise<CryptoService> {
    const policy = opts.config.policy;
    const measure = opts.calibration === undefined && needsCalibration(policy);
    const configured = decidePlacements(policy, opts.calibration ?? null);
    const wantsPool = measure || CRYPTO_OP_NAMES.some((op) => configured[op].where === "pool");

    let pool: CryptoPool | null = null;
    const metrics = createCryptoMetrics(opts.registry, {
      queueDepth: () => pool?.queueDepth ?? 0,
      utilization: () => pool?.utilization ?? 0,
    });
    if (wantsPool) {
      pool = new CryptoPool({
        nice: opts.config.nice,
        ...opts.pool,
        threads: opts.config.threads,
        maxQueue: opts.config.maxQueue,
        argon2Concurrency: opts.config.argon2Concurrency,
        onWorkerError: (kind) => metrics.workerErrors.inc({ kind }),
      });
    }

    let calibration = opts.calibration ?? null;
    try {
      if (measure && pool !== null) calibration = await calibrateCrypto(pool, opts.calibrate);
    } catch (err) {
      await pool?.close();
      throw err;
    }
    const placements = measure ? decidePlacements(policy, calibration) : configured;
    if (calibration !== null) recordCalibration(metrics, calibration);
    const report: CryptoServiceReport = Object.freeze({
      policy,
      pool: pool === null ? null : { threads: pool.threads, maxQueue: pool.maxQueue, argon2Concurrency: pool.argon2Concurrency },
      calibration,
      placements,
    });
    return new CryptoService(pool, metrics, report);
  }

  /**
   * Runs `op`. Rejects with the op's own expected error (`FernetError`, `TokenError`, …), or
   * `CryptoTaskError` (500), or from the pool `CryptoQueueFullError`, `CryptoWorkerDiedError`,
   * `CryptoTaskTimeoutError`, `CryptoPoolClosedError` (503 with Retry-After).
   */
  run<N extends CryptoOpName>(op: N, args: CryptoOpArgs<N>): Promise<CryptoOpResult<N>> {
    const route = this.#routes[op];
    if (route === undefined) return Promise.reject(new TypeError("CryptoService.run: unknown op"));
    const started = performance.now();
    const task =
      route.where === "pool" && this.#pool !== null
        ? this.#pool.run(op, args)
        : (runCryptoOp(op, args) as Promise<CryptoOpResult<N>>).catch((err: unknown) => {
            throw normaliseInlineError(op, err);
          });
    return task.then(
      (value) => {
        route.timer.observe((performance.now() - started) / 1000);
        return value;
      },
      (err: unknown) => {
        route.timer.observe((performance.now() - started) / 1000);
        if (err instanceof CryptoQueueFullError) this.#metrics.rejected.inc({ op });
        throw err;
      },
    );
  }

  /** Where `op` runs. */
  placementOf(op: CryptoOpName): CryptoPlacement {
    return this.#routes[op].where;
  }

  /** The pool, or null when the policy places every op inline. */
  get pool(): CryptoPool | null {
    return this.#pool;
  }

  /** Policy, pool size, calibration figures and decisions, as plain data for logging. */
  describe(): CryptoServiceReport {
    return this.#report;
  }

  /** Drains and stops the pool (in-flight work finishes; new pooled ops get `CryptoPoolClosedError`). */
  async close(): Promise<void> {
    await this.#pool?.close();
  }
}

function recordCalibration(metrics: CryptoMetrics, c: CryptoCalibration): void {
  metrics.calibrationSeconds.labels("pool_overhead_cpu").set(c.pool.overheadCpuMicros / 1e6);
  metrics.calibrationSeconds.labels("pool_round_trip").set(c.pool.roundTripMicros / 1e6);
  for (const op of CRYPTO_OP_NAMES) {
    const m = c.inline[op];
    if (m !== undefined) metrics.calibrationSeconds.labels(`inline_cpu:${op}`).set(m.cpuMicros / 1e6);
  }
}
