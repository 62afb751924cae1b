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
import { threadCpuClock, type CpuClock } from "../../platform.ts";
import { encodeBase64Url } from "../base64url.ts";
import type { VerificationMaterial } from "../jwt/key-ring.ts";
import { runCryptoOp, type CryptoOpArgs, type CryptoOpName } from "./ops.ts";
import type { CryptoPool } from "./pool.ts";
import type { CryptoCalibration } from "./policy.ts";
import type { KeyMaterial, SessionAlg } from "../jwt/signing-key.ts";

/** Sample arguments per op; each factory is called once. Ops without a sample are not measured. */
export type CalibrationSamples = { readonly [N in CryptoOpName]?: () => CryptoOpArgs<N> | Promise<CryptoOpArgs<N>> };

/** Options of {@link calibrateCrypto}. */
export interface CalibrateOptions {
  /** Samples (default {@link defaultCalibrationSamples}). */
  samples?: CalibrationSamples;
  /** Measuring window per op, ms, after a warm-up of half that; the pool gets twice it (default 40). */
  budgetMs?: number;
  /** Iterations per window at least / at most (defaults 5 / 20 000). */
  minIterations?: number;
  maxIterations?: number;
  /** The clock (default: the thread CPU clock of src/platform.ts). */
  clock?: CpuClock;
}

/** The session-token keys to calibrate `jwt.sign` / `jwt.verify` with: use the configured algorithm. */
export interface JwtCalibrationKeys {
  readonly alg: SessionAlg;
  readonly signingKey: KeyMaterial;
  readonly verificationKey: KeyMaterial | readonly VerificationMaterial[];
}

/**
 * Samples for every op except the password ops (`auto` pools those regardless, and measuring
 * them costs seconds): `noop`, `spin` (200 µs, a sanity check of the clock), Fernet with a
 * throwaway key and a 2 KB token (a typical `oauth_session.token`), and session JWTs signed with
 * `jwt` — by default HS256 with a throwaway secret. Pass the deployment's algorithm: RS256
 * signing costs ≈ 100× HS256 and belongs on the pool, HS256 does not.
 */
export function defaultCalibrationSamples(jwt?: JwtCalibrationKeys): CalibrationSamples {
  const key = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)), true);
  const plaintext = JSON.stringify({ access_token: "x".repeat(1400), refresh_token: "y".repeat(500), expires_in: 3600 });
  const secret = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const keys: JwtCalibrationKeys = jwt ?? { alg: "HS256", signingKey: secret, verificationKey: secret };
  const claims = { id: "00000000-0000-4000-8000-000000000000", exp: null };
  return {
    noop: () => null,
    spin: () => ({ micros: 200 }),
    "fernet.encrypt": () => ({ key, plaintext }),
    "fernet.decrypt": async () => ({ key, token: (await runCryptoOp("fernet.encrypt", { key, plaintext })) as string }),
    "jwt.sign": () => ({ alg: keys.alg, key: keys.signingKey, claims }),
    "jwt.verify": async () => ({
      alg: keys.alg,
      key: keys.verificationKey,
      token: (await runCryptoOp("jwt.sign", { alg: keys.alg, key: keys.signingKey, claims })) as string,
    }),
    "idtoken.verify": () => idTokenSample(),
  };
}

/**
 * Measures the pool's round-trip overhead (sequential `noop` tasks) and each sampled op inline.
 * Runs on the calling thread and blocks nothing for more than one op at a time.
 */
export async function calibrateCrypto(pool: CryptoPool, opts: CalibrateOptions = {}): Promise<CryptoCalibration> {
  const started = performance.now();
  const clock = opts.clock ?? threadCpuClock();
  const budgetMs = opts.budgetMs ?? 40;
  const minIterations = opts.minIterations ?? 5;
  const maxIterations = opts.maxIterations ?? 20_000;
  const samples = opts.samples ?? defaultCalibrationSamples();

  await pool.warmUp();
  const poolRun = await measure(clock, () => pool.run("noop", null), 2 * budgetMs, minIterations, maxIterations);

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

/**
 * Runs `fn` back to back for `budgetMs` and reports mean CPU and wall µs per call, after a
 * thrown-away warm-up of half that (cold, a pool round trip measured 3–5× its warm cost: JIT,
 * caches). One long window rather than several short ones, because Bun's thread clock moves in
 * steps of up to ≈ 4 ms.
 */
async function measure(
  clock: CpuClock,
  fn: () => Promise<unknown>,
  budgetMs: number,
  minIterations: number,
  maxIterations: number,
): Promise<{ cpuMicros: number; wallMicros: number; iterations: number }> {
  const warmUntil = performance.now() + budgetMs / 2;
  for (let i = 0; i < maxIterations && (i < minIterations || performance.now() < warmUntil); i++) await fn();
  const cpu0 = clock.now();
  const wall0 = performance.now();
  const deadline = wall0 + budgetMs;
  let n = 0;
  while (n < maxIterations && (n < minIterations || performance.now() < deadline)) {
    await fn();
    n++;
  }
  return { cpuMicros: (clock.now() - cpu0) / n, wallMicros: ((performance.now() - wall0) * 1000) / n, iterations: n };
}

/** A provider-style RS256 ID token and its JWKS (the most common provider algorithm). */
async function idTokenSample(): Promise<CryptoOpArgs<"idtoken.verify">> {
  const { generateKeyPair, exportJWK, SignJWT } = await import("jose");
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "calibration", alg: "RS256", use: "sig" };
  const token = await new SignJWT({ sub: "calibration", nonce: "n" })
    .setProtectedHeader({ alg: "RS256", kid: "calibration" })
    .setIssuer("https://issuer.calibration").setAudience("gatehouse").setIssuedAt().setExpirationTime("10m")
    .sign(privateKey);
  return { jwks: { keys: [jwk] }, token, issuer: "https://issuer.calibration", audience: "gatehouse" };
}
