/**
 * The crypto offload settings: where each op runs (`GATEHOUSE_CRYPTO_POLICY*`) and the worker
 * pool's size (`GATEHOUSE_CRYPTO_THREADS`, `GATEHOUSE_CRYPTO_MAX_QUEUE`). Parsed here, with the
 * rest of the environment; src/crypto receives the result.
 */
import { ConfigError } from "./errors.ts";
import { int, num, oneOf, type Env } from "./readers.ts";

/**
 * The crypto ops a policy can name, in the op table's order. src/crypto/offload/ops.ts is checked
 * against this list at compile time (src/crypto/offload/policy.ts), so the two cannot drift apart.
 */
export const CRYPTO_POLICY_OPS = Object.freeze([
  "noop",
  "spin",
  "password.hash",
  "password.verify",
  "fernet.encrypt",
  "fernet.decrypt",
  "jwt.sign",
  "jwt.verify",
  "idtoken.verify",
] as const);

/** An op a policy can name. */
export type CryptoPolicyOp = (typeof CRYPTO_POLICY_OPS)[number];

/** A configured placement. */
export type CryptoPolicyMode = "inline" | "pool" | "auto";

/** The offload policy as configured. */
export interface CryptoPolicy {
  /** `GATEHOUSE_CRYPTO_POLICY` (default `auto`). */
  readonly mode: CryptoPolicyMode;
  /** `GATEHOUSE_CRYPTO_POLICY_<OP>`, e.g. `..._PASSWORD_HASH` for `password.hash`. */
  readonly overrides: Readonly<Partial<Record<CryptoPolicyOp, CryptoPolicyMode>>>;
  /** `GATEHOUSE_CRYPTO_AUTO_MARGIN`: pool when cost > overhead × margin (default 2). */
  readonly margin: number;
}

/** Defaults of {@link CryptoPolicy}. */
export const CRYPTO_POLICY_DEFAULTS: CryptoPolicy = Object.freeze({
  mode: "auto",
  overrides: Object.freeze({}),
  margin: 2,
});

/** Default of `GATEHOUSE_CRYPTO_MAX_QUEUE`. */
export const CRYPTO_MAX_QUEUE_DEFAULT = 256;

/** Default of `GATEHOUSE_CRYPTO_NICE`: below the event loop (nice 0); measured in bench/results/event-loop.md. */
export const CRYPTO_NICE_DEFAULT = 10;

/**
 * Default of `GATEHOUSE_CRYPTO_ARGON2_CONCURRENCY` for a pool of `threads`: half of them, at
 * least 1. An argon2id hash (64 MiB, 3 passes) is bound by memory bandwidth, not by cores: on
 * the 2-core bench machine one hash at a time gave more hashes/s than two, and two starved the
 * event loop through the shared memory system, which thread priorities cannot arbitrate
 * (bench/results/event-loop-argon2-cause.md).
 */
export function defaultArgon2Concurrency(threads: number): number {
  return Math.max(1, Math.floor(threads / 2));
}

/** Everything the crypto service is configured with. */
export interface CryptoConfig {
  readonly policy: CryptoPolicy;
  /** `GATEHOUSE_CRYPTO_THREADS` (1–256, default: cores). */
  readonly threads: number;
  /** `GATEHOUSE_CRYPTO_MAX_QUEUE` (0–100000, default 256). */
  readonly maxQueue: number;
  /** `GATEHOUSE_CRYPTO_NICE` (0–19, default 10): the hashing threads' OS priority below the event loop's (0 = same). */
  readonly nice: number;
  /** `GATEHOUSE_CRYPTO_ARGON2_CONCURRENCY` (1–threads, default half the threads): argon2id ops running at once. */
  readonly argon2Concurrency: number;
}

const PREFIX = "GATEHOUSE_CRYPTO_POLICY_";
const MODES: readonly CryptoPolicyMode[] = ["inline", "pool", "auto"];

/** The override variable for `op`: `password.hash` → `GATEHOUSE_CRYPTO_POLICY_PASSWORD_HASH`. */
export function policyVariableFor(op: CryptoPolicyOp): string {
  return PREFIX + op.toUpperCase().replace(/\./g, "_");
}

const OP_BY_VARIABLE: ReadonlyMap<string, CryptoPolicyOp> = new Map(CRYPTO_POLICY_OPS.map((op) => [policyVariableFor(op), op]));

/**
 * Reads the policy from `env`. Throws `ConfigError` for a mode other than inline/pool/auto, a
 * margin outside 1–100, or a `GATEHOUSE_CRYPTO_POLICY_*` variable naming no op (a typo would
 * otherwise be silently ignored).
 */
export function parseCryptoPolicy(env: Env): CryptoPolicy {
  const mode = oneOf(env, "GATEHOUSE_CRYPTO_POLICY", CRYPTO_POLICY_DEFAULTS.mode, MODES);
  const margin = num(env, "GATEHOUSE_CRYPTO_AUTO_MARGIN", CRYPTO_POLICY_DEFAULTS.margin, 1, 100);
  const overrides: Partial<Record<CryptoPolicyOp, CryptoPolicyMode>> = {};
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

/** The number of cores this process may use (1 when unknown): the default thread count. */
export function defaultCryptoThreads(): number {
  const n = globalThis.navigator?.hardwareConcurrency;
  return typeof n === "number" && n >= 1 ? Math.floor(n) : 1;
}

/** The policy plus `GATEHOUSE_CRYPTO_THREADS`, `_MAX_QUEUE`, `_NICE` and `_ARGON2_CONCURRENCY`. */
export function readCryptoConfig(env: Env): CryptoConfig {
  const threads = int(env, "GATEHOUSE_CRYPTO_THREADS", defaultCryptoThreads(), 1, 256);
  return Object.freeze({
    policy: parseCryptoPolicy(env),
    threads,
    maxQueue: int(env, "GATEHOUSE_CRYPTO_MAX_QUEUE", CRYPTO_MAX_QUEUE_DEFAULT, 0, 100_000),
    nice: int(env, "GATEHOUSE_CRYPTO_NICE", CRYPTO_NICE_DEFAULT, 0, 19),
    argon2Concurrency: int(env, "GATEHOUSE_CRYPTO_ARGON2_CONCURRENCY", defaultArgon2Concurrency(threads), 1, threads),
  });
}
