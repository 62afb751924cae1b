/**
 * Where each crypto op runs: on the event loop (`inline`) or on the worker pool (`pool`), or
 * `auto`: measured at startup. Offloading has a price of its own (DESIGN §5a: ≈ 20–30 µs of
 * main-thread work per piscina round trip), so `auto` pools an op only when its measured
 * main-thread cost exceeds that overhead times a margin. Everything here is pure.
 */
import { num, oneOf, type Env } from "../config/readers.ts";
import { ConfigError } from "../config/errors.ts";
import { CRYPTO_OP_NAMES, isCryptoOpName, type CryptoOpName } from "./ops.ts";

/** A configured placement. */
export type CryptoPolicyMode = "inline" | "pool" | "auto";
/** A decided placement. */
export type CryptoPlacement = "inline" | "pool";

/** The offload policy as configured. */
export interface CryptoPolicy {
  /** `GATEHOUSE_CRYPTO_POLICY` (default `auto`). */
  readonly mode: CryptoPolicyMode;
  /** `GATEHOUSE_CRYPTO_POLICY_<OP>`, e.g. `..._PASSWORD_HASH` for `password.hash`. */
  readonly overrides: Readonly<Partial<Record<CryptoOpName, CryptoPolicyMode>>>;
  /** `GATEHOUSE_CRYPTO_AUTO_MARGIN`: pool when cost > overhead × margin (default 2). */
  readonly margin: number;
}

/** Defaults of {@link CryptoPolicy}. */
export const CRYPTO_POLICY_DEFAULTS: CryptoPolicy = Object.freeze({
  mode: "auto",
  overrides: Object.freeze({}),
  margin: 2,
});

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

const PREFIX = "GATEHOUSE_CRYPTO_POLICY_";
const MODES: readonly CryptoPolicyMode[] = ["inline", "pool", "auto"];

/** The override variable for `op`: `password.hash` → `GATEHOUSE_CRYPTO_POLICY_PASSWORD_HASH`. */
export function policyVariableFor(op: CryptoOpName): string {
  return PREFIX + op.toUpperCase().replace(/\./g, "_");
}

const OP_BY_VARIABLE: ReadonlyMap<string, CryptoOpName> = new Map(CRYPTO_OP_NAMES.map((op) => [policyVariableFor(op), op]));

/**
 * Reads the policy from `env`. Throws `ConfigError` for a mode other than inline/pool/auto, a
 * margin outside 1–100, or a `GATEHOUSE_CRYPTO_POLICY_*` variable naming no op (a typo would
 * otherwise be silently ignored).
 */
export function parseCryptoPolicy(env: Env): CryptoPolicy {
  const mode = oneOf(env, "GATEHOUSE_CRYPTO_POLICY", CRYPTO_POLICY_DEFAULTS.mode, MODES);
  const margin = num(env, "GATEHOUSE_CRYPTO_AUTO_MARGIN", CRYPTO_POLICY_DEFAULTS.margin, 1, 100);
  const overrides: Partial<Record<CryptoOpName, CryptoPolicyMode>> = {};
  for (const name of Object.keys(env)) {
    if (!name.startsWith(PREFIX)) continue;
    const op = OP_BY_VARIABLE.get(name);
    if (op === undefined) {
      throw new ConfigError(name, `a variable for a known op (${[...OP_BY_VARIABLE.keys()].join(", ")})`);
    }
    if (env[name]?.trim()) overrides[op] = oneOf(env, name, mode, MODES);
  }
  return Object.freeze({ mode, overrides: Object.freeze(overrides), margin });
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
