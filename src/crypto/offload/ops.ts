/**
 * The crypto op table: name → async function of one plain, structured-cloneable argument.
 * The same table runs inline on the main thread and inside `workers/crypto.worker.ts`, so both
 * placements give identical results. Arguments are checked at run time too, because in a
 * worker they arrive as `unknown`.
 */
import { fernetDecrypt, fernetEncrypt } from "../fernet.ts";
import { verifyIdToken, type IdTokenVerifyArgs } from "../jwt/id-token.ts";
import type { VerificationMaterial } from "../jwt/key-ring.ts";
import { hashPassword, hashPasswordOnThisThread, verifyPassword, verifyPasswordOnThisThread } from "../password.ts";
import type { SessionClaims, SessionClaimsInput } from "../jwt/session-claims.ts";
import { signSessionTokenWith, verifySessionTokenWith } from "../jwt/session-jwt-with.ts";
import type { KeyMaterial, SessionAlg } from "../jwt/signing-key.ts";

/** Upper bound for `spin`, so a mistaken argument cannot wedge a thread. */
export const MAX_SPIN_MICROS = 10_000_000;

/** Arguments of `spin`: busy-wait this many microseconds of CPU on the running thread. */
export interface SpinArgs {
  readonly micros: number;
}

/** Arguments of `password.hash`. */
export interface PasswordHashArgs {
  readonly password: string;
}

/** Arguments of `password.verify`. */
export interface PasswordVerifyArgs {
  readonly password: string;
  readonly hash: string;
}

/** Arguments of `fernet.encrypt` (see `fernetEncrypt`; `now`/`iv` only for vectors and tests). */
export interface FernetEncryptArgs {
  readonly key: string;
  readonly plaintext: string;
  readonly now?: number;
  readonly iv?: Uint8Array;
}

/** Arguments of `fernet.decrypt` (see `fernetDecrypt`). */
export interface FernetDecryptArgs {
  readonly key: string;
  readonly token: string;
  readonly ttlSeconds?: number;
  readonly now?: number;
}

/** Arguments of `jwt.sign` (see `signSessionTokenWith`): HMAC secret for HS256, else a private key. */
export interface JwtSignArgs {
  readonly alg: SessionAlg;
  readonly key: KeyMaterial;
  readonly claims: SessionClaimsInput;
  /** Unix seconds (default: now). */
  readonly now?: number;
}

/** Arguments of `jwt.verify` (see `verifySessionTokenWith`): HMAC secret, or the ring's verification material. */
export interface JwtVerifyArgs {
  readonly alg: SessionAlg;
  readonly key: KeyMaterial | readonly VerificationMaterial[];
  readonly token: string;
  /** Unix seconds (default: now). */
  readonly now?: number;
  readonly iatLeewaySeconds?: number;
}

/** The op table. Frozen; look names up with {@link isCryptoOpName}, never by `in`. */
export const CRYPTO_OPS = Object.freeze({
  /** Does nothing: measures the pool's own round-trip cost. */
  noop: async (_args: null): Promise<null> => null,

  /** Busy-waits `micros` µs on the current thread; resolves with `micros`. For calibration and tests. */
  spin: async (args: SpinArgs): Promise<number> => {
    const micros = num(args, "micros");
    if (micros < 0 || micros > MAX_SPIN_MICROS) throw new RangeError("spin: micros out of range");
    const end = performance.now() + micros / 1000;
    while (performance.now() < end) {
      // Busy on purpose: this op stands in for CPU-bound work.
    }
    return micros;
  },

  "password.hash": async (args: PasswordHashArgs): Promise<string> => hashPassword(str(args, "password")),

  "password.verify": async (args: PasswordVerifyArgs): Promise<boolean> =>
    verifyPassword(str(args, "password"), str(args, "hash")),

  "fernet.encrypt": async (args: FernetEncryptArgs): Promise<string> => {
    const opts: { now?: number; iv?: Uint8Array } = {};
    if (args.now !== undefined) opts.now = num(args, "now");
    if (args.iv !== undefined) opts.iv = args.iv;
    return fernetEncrypt(str(args, "key"), str(args, "plaintext"), opts);
  },

  "fernet.decrypt": async (args: FernetDecryptArgs): Promise<string> => {
    const opts: { ttlSeconds?: number; now?: number } = {};
    if (args.ttlSeconds !== undefined) opts.ttlSeconds = num(args, "ttlSeconds");
    if (args.now !== undefined) opts.now = num(args, "now");
    return fernetDecrypt(str(args, "key"), str(args, "token"), opts);
  },

  "jwt.sign": async (args: JwtSignArgs): Promise<string> =>
    signSessionTokenWith(
      str(args, "alg") as SessionAlg,
      field(args, "key") as KeyMaterial,
      field(args, "claims") as SessionClaimsInput,
      args.now === undefined ? undefined : num(args, "now"),
    ),

  "jwt.verify": async (args: JwtVerifyArgs): Promise<SessionClaims> =>
    verifySessionTokenWith(
      str(args, "alg") as SessionAlg,
      field(args, "key") as KeyMaterial | readonly VerificationMaterial[],
      str(args, "token"),
      args.now === undefined ? undefined : num(args, "now"),
      args.iatLeewaySeconds === undefined ? undefined : num(args, "iatLeewaySeconds"),
    ),

  "idtoken.verify": async (args: IdTokenVerifyArgs): Promise<Record<string, unknown>> =>
    verifyIdToken({
      jwks: field(args, "jwks") as IdTokenVerifyArgs["jwks"],
      token: str(args, "token"),
      issuer: str(args, "issuer"),
      audience: str(args, "audience"),
      ...(args.maxTokenAgeSeconds === undefined ? {} : { maxTokenAgeSeconds: num(args, "maxTokenAgeSeconds") }),
      ...(args.now === undefined ? {} : { now: num(args, "now") }),
    }),
});

/** The ops' names. */
export type CryptoOpName = keyof typeof CRYPTO_OPS;
/** The argument type of op `N`. */
export type CryptoOpArgs<N extends CryptoOpName> = Parameters<(typeof CRYPTO_OPS)[N]>[0];
/** The resolved result type of op `N`. */
export type CryptoOpResult<N extends CryptoOpName> = Awaited<ReturnType<(typeof CRYPTO_OPS)[N]>>;

/** Every op name, in table order. */
export const CRYPTO_OP_NAMES = Object.freeze(Object.keys(CRYPTO_OPS) as CryptoOpName[]);

/** Whether `name` is an op in the table (own property only: `constructor`, `__proto__` are not ops). */
export function isCryptoOpName(name: unknown): name is CryptoOpName {
  return typeof name === "string" && Object.hasOwn(CRYPTO_OPS, name);
}

/**
 * The table as a crypto worker thread runs it: the same ops, but the password ops compute on
 * the worker's own thread. Their event-loop flavour hands argon2 to the runtime's native thread
 * pool, whose threads run at the process's priority: from a worker, that would take the hashing
 * away from the worker's lowered priority and level with the event loop.
 */
const WORKER_THREAD_OPS: Readonly<Record<CryptoOpName, (a: never) => Promise<unknown>>> = Object.freeze({
  ...CRYPTO_OPS,
  "password.hash": async (args: PasswordHashArgs): Promise<string> => hashPasswordOnThisThread(str(args, "password")),
  "password.verify": async (args: PasswordVerifyArgs): Promise<boolean> =>
    verifyPasswordOnThisThread(str(args, "password"), str(args, "hash")),
});

/**
 * Whether `op` with `args` computes an argon2id hash: `password.hash`, or `password.verify`
 * against an argon2 hash. These are bound by memory bandwidth rather than cores, so the pool
 * runs only a few at once (see `CryptoPoolOptions.argon2Concurrency`).
 */
export function isArgon2Task(op: string, args: unknown): boolean {
  if (op === "password.hash") return true;
  if (op !== "password.verify" || typeof args !== "object" || args === null) return false;
  const hash = (args as { hash?: unknown }).hash;
  return typeof hash === "string" && hash.startsWith("$argon2");
}

/** Where {@link runCryptoOp} is called from. */
export type CryptoOpThread = "event-loop" | "worker";

/**
 * Runs op `op` with `args`; `from` says whether the caller is the event loop (inline placement,
 * the default) or a crypto worker (which may block its own thread, and should). Untyped entry
 * point for the worker; typed callers go through `CryptoService.run`.
 */
export function runCryptoOp(op: CryptoOpName, args: unknown, from: CryptoOpThread = "event-loop"): Promise<unknown> {
  const fn = (from === "worker" ? WORKER_THREAD_OPS : CRYPTO_OPS)[op] as (a: unknown) => Promise<unknown>;
  return fn(args);
}

function field(args: unknown, name: string): unknown {
  if (typeof args !== "object" || args === null) throw new TypeError("crypto op: arguments must be an object");
  return (args as Record<string, unknown>)[name];
}

function str(args: unknown, name: string): string {
  const v = field(args, name);
  if (typeof v !== "string") throw new TypeError(`crypto op: ${name} must be a string`);
  return v;
}

function num(args: unknown, name: string): number {
  const v = field(args, name);
  if (typeof v !== "number" || !Number.isFinite(v)) throw new TypeError(`crypto op: ${name} must be a finite number`);
  return v;
}
