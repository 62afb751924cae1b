/**
 * Where each crypto op runs: on the event loop (`inline`) or on the worker pool (`pool`), or
 * `auto`: measured at startup. Offloading has a price of its own (DESIGN §5a: ≈ 20–30 µs of
 * main-thread work per piscina round trip), so `auto` pools an op only when its measured
 * main-thread cost exceeds that overhead times a margin. Everything here is pure.
 */
import type { CryptoPolicy, CryptoPolicyMode, CryptoPolicyOp } from "../../config/crypto-config.ts";
import { CRYPTO_OP_NAMES, isCryptoOpName, type CryptoOpName } from "./ops.ts";

export type { CryptoPolicy, CryptoPolicyMode } from "../../config/crypto-config.ts";

// The op table and the ops the configuration can name must be the same set (compile-time check).
type SameSet<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const OPS_MATCH_CONFIG: SameSet<CryptoOpName, CryptoPolicyOp> = true;
void OPS_MATCH_CONFIG;

/** A decided placement. */
export type CryptoPlacement = "inline" | "pool";

/**
 * Ops `auto` always pools, whatever calibration says: a password hash is tens to hundreds of ms
 * of CPU (bcryptjs runs on the calling thread), and on the pool its queue bound turns a sign-in
 * storm into 503s instead of a frozen event loop. An explicit `inline` still wins.
 */
export const ALWAYS_POOLED_UNDER_AUTO: readonly CryptoOpName[] = Object.freeze(["password.hash", "password.verify"]);

/** Main-thread costs measured at startup, in microseconds per op (see `calibrateCrypto`). */
export interface CryptoCalibration {
  /** Which CPU clock measured main-thread time. */
  readonly clock: "thread-cpu" | "process-cpu";
  /** Pool round trip of a `noop` task. */
  readonly pool: { readonly overheadCpuMicros: number; readonly roundTripMicros: number; readonly iterations: number };
  /** Inline runs of each calibrated op. */
  readonly inline: Readonly<
    Partial<Record<CryptoOpName, { readonly cpuMicros: number; readonly wallMicros: number; readonly iterations: number }>>
  >;
  /** How long calibration took, in ms. */
  readonly durationMs: number;
}

/** Why an op was placed where it is. */
export type PlacementReason = "configured" | "always-pooled" | "measured" | "uncalibrated";

/** The decision for one op. */
export interface PlacementDecision {
  readonly where: CryptoPlacement;
  readonly reason: PlacementReason;
  /** For `measured`: the inline main-thread cost and the threshold it was compared with, µs. */
  readonly costMicros?: number;
  readonly thresholdMicros?: number;
}

/** The configured mode of `op`: its override, else the global mode. */
export function modeFor(policy: CryptoPolicy, op: CryptoOpName): CryptoPolicyMode {
  return policy.overrides[op] ?? policy.mode;
}

/** Whether deciding `policy` needs a calibration (some op is `auto` and not always pooled). */
export function needsCalibration(policy: CryptoPolicy): boolean {
  return CRYPTO_OP_NAMES.some((op) => modeFor(policy, op) === "auto" && !ALWAYS_POOLED_UNDER_AUTO.includes(op));
}

/** Decides one op. An `auto` op with no measurement stays inline (the pool's overhead is certain). */
export function decidePlacement(
  policy: CryptoPolicy,
  calibration: CryptoCalibration | null,
  op: CryptoOpName,
): PlacementDecision {
  if (!isCryptoOpName(op)) throw new TypeError("decidePlacement: unknown op");
  const mode = modeFor(policy, op);
  if (mode !== "auto") return { where: mode, reason: "configured" };
  if (ALWAYS_POOLED_UNDER_AUTO.includes(op)) return { where: "pool", reason: "always-pooled" };
  const measured = calibration?.inline[op];
  if (calibration === null || measured === undefined) return { where: "inline", reason: "uncalibrated" };
  const thresholdMicros = calibration.pool.overheadCpuMicros * policy.margin;
  return {
    where: measured.cpuMicros > thresholdMicros ? "pool" : "inline",
    reason: "measured",
    costMicros: measured.cpuMicros,
    thresholdMicros,
  };
}

/** Decides every op. */
export function decidePlacements(
  policy: CryptoPolicy,
  calibration: CryptoCalibration | null,
): Readonly<Record<CryptoOpName, PlacementDecision>> {
  const out = {} as Record<CryptoOpName, PlacementDecision>;
  for (const op of CRYPTO_OP_NAMES) out[op] = decidePlacement(policy, calibration, op);
  return Object.freeze(out);
}
