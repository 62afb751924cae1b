/**
 * Startup calibration for the `auto` offload policy: how much main-thread CPU one pool round
 * trip costs, and how much each op costs when run inline.
 *
 * Why CPU time of the main thread, not wall time: what offloading saves is event-loop time.
 * WebCrypto is async and Bun runs part of it on other threads, and argon2 runs on libuv's pool,
 * so an op's wall time overstates what it takes from the event loop (DESIGN §5a). A pool round
 * trip is the reverse: mostly waiting, with ≈ 20–30 µs of real work on the main thread.
 * `process.threadCpuUsage()` measures exactly the calling thread; where it is missing or coarse
 * (Deno 2.9 reports it in 10 ms steps) `process.cpuUsage()` is used, which also counts worker
 * and helper threads: the pool's overhead then includes the worker's share of a no-op task, and
 * an op's inline cost includes work done off-thread, so both read high (reported as
 * `clock: "process-cpu"`). `performance.eventLoopUtilization()` was not used: it is absent on
 * Bun and Deno and, for back-to-back awaited tasks, reads ≈ 1 whatever each task costs.
 */
import { encodeBase64Url } from "./base64url.ts";
import { runCryptoOp, type CryptoOpArgs, type CryptoOpName } from "./ops.ts";
import type { CryptoPool } from "./pool.ts";
import type { CryptoCalibration } from "./policy.ts";

/** A CPU clock in microseconds. */
export interface CpuClock {
  readonly kind: CryptoCalibration["clock"];
  now(): number;
}

/** Sample arguments per op; each factory is called once. Ops without a sample are not measured. */
export type CalibrationSamples = { readonly [N in CryptoOpName]?: () => CryptoOpArgs<N> | Promise<CryptoOpArgs<N>> };

/** Options of {@link calibrateCrypto}. */
export interface CalibrateOptions {
  /** Samples (default {@link defaultCalibrationSamples}). */
  samples?: CalibrationSamples;
  /** Wall-time budget per measured op, ms (default 25). */
  budgetMs?: number;
  /** Iterations per op at least / at most (defaults 5 / 2000). */
  minIterations?: number;
  maxIterations?: number;
  /** The clock (default {@link selectCpuClock}). */
  clock?: CpuClock;
}

const COARSE_MICROS = 100;

/** The per-thread CPU clock when it exists and is finer than 100 µs, else the process clock. */
export function selectCpuClock(): CpuClock {
  const threadUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  if (typeof threadUsage === "function") {
    const read = (): number => {
      const u = threadUsage.call(process);
      return u.user + u.system;
    };
    if (finestStepMicros(read) <= COARSE_MICROS) return { kind: "thread-cpu", now: read };
  }
  return {
    kind: "process-cpu",
    now: () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
  };
}

/** The smallest non-zero step `read` shows while spinning for at most ~3 ms. */
function finestStepMicros(read: () => number): number {
  const end = performance.now() + 3;
  let finest = Infinity;
  let prev = read();
  while (performance.now() < end) {
    const next = read();
    if (next > prev) finest = Math.min(finest, next - prev);
    prev = next;
  }
  return finest;
}

/**
 * Samples for the ops that need no configuration: `noop`, `spin` (200 µs, a sanity check of the
 * clock), and Fernet on a throwaway key with a 2 KB token (a typical `oauth_session.token`).
 * Password ops are left out: `auto` pools them regardless, and measuring costs seconds.
 */
export function defaultCalibrationSamples(): CalibrationSamples {
  const key = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)), true);
  const plaintext = JSON.stringify({ access_token: "x".repeat(1400), refresh_token: "y".repeat(500), expires_in: 3600 });
  return {
    noop: () => null,
    spin: () => ({ micros: 200 }),
    "fernet.encrypt": () => ({ key, plaintext }),
    "fernet.decrypt": async () => ({ key, token: await runCryptoOp("fernet.encrypt", { key, plaintext }) as string }),
  };
}

/**
 * Measures the pool's round-trip overhead (sequential `noop` tasks) and each sampled op inline.
 * Runs on the calling thread and blocks nothing for more than one op at a time.
 */
export async function calibrateCrypto(pool: CryptoPool, opts: CalibrateOptions = {}): Promise<CryptoCalibration> {
  const started = performance.now();
  const clock = opts.clock ?? selectCpuClock();
  const budgetMs = opts.budgetMs ?? 25;
  const minIterations = opts.minIterations ?? 5;
  const maxIterations = opts.maxIterations ?? 2000;
  const samples = opts.samples ?? defaultCalibrationSamples();

  await pool.warmUp();
  const poolRun = await measure(clock, () => pool.run("noop", null), budgetMs, minIterations, maxIterations);

  const inline: Record<string, { cpuMicros: number; wallMicros: number; iterations: number }> = {};
  for (const op of Object.keys(samples) as CryptoOpName[]) {
    const factory = samples[op] as (() => unknown) | undefined;
    if (factory === undefined) continue;
    const args = await factory();
    inline[op] = await measure(clock, () => runCryptoOp(op, args), budgetMs, minIterations, maxIterations);
  }

  return {
    clock: clock.kind,
    pool: { overheadCpuMicros: poolRun.cpuMicros, roundTripMicros: poolRun.wallMicros, iterations: poolRun.iterations },
    inline,
    durationMs: performance.now() - started,
  };
}

/** Runs `fn` back to back (after a short warm-up) and reports mean CPU and wall µs per call. */
async function measure(
  clock: CpuClock,
  fn: () => Promise<unknown>,
  budgetMs: number,
  minIterations: number,
  maxIterations: number,
): Promise<{ cpuMicros: number; wallMicros: number; iterations: number }> {
  for (let i = 0; i < 3; i++) await fn();
  const cpu0 = clock.now();
  const wall0 = performance.now();
  const deadline = wall0 + budgetMs;
  let n = 0;
  while (n < maxIterations && (n < minIterations || performance.now() < deadline)) {
    await fn();
    n++;
  }
  const wallMicros = ((performance.now() - wall0) * 1000) / n;
  const cpuMicros = (clock.now() - cpu0) / n;
  return { cpuMicros, wallMicros, iterations: n };
}
