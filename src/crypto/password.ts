/**
 * Password hashing compatible with Open WebUI: new hashes are argon2id with argon2-cffi's
 * defaults (RFC 9106 "low memory": m=64 MiB, t=3, p=4, 32-byte hash, 16-byte salt), and
 * Open WebUI's older bcrypt hashes (`$2b$`, also `$2a$`/`$2y$`) still verify, with bcrypt's
 * 72-byte truncation, so a user who signed up under Open WebUI can sign in here.
 *
 * Every function is safe to call with anything: a hash we cannot read verifies as `false`,
 * never throws. Run these through `CryptoService` (the worker pool), not on the event loop.
 *
 * Two flavours: the async functions hand argon2 to the runtime's native thread pool (Bun's
 * "Bun Pool" threads, libuv's on Deno/Node), which keeps an event-loop caller free; the
 * `…OnThisThread` functions block the calling thread instead, which is what a crypto worker
 * wants: the CPU is then spent at the worker's lowered priority, where the async flavour would
 * spend it on native threads at the process's own priority, level with the event loop
 * (bench/results/event-loop-argon2-cause.md).
 */
import {
  hash as argon2Hash,
  hashSync as argon2HashSync,
  parseOptions,
  verify as argon2Verify,
  verifySync as argon2VerifySync,
  type Algorithm,
} from "@node-rs/argon2";
import bcrypt from "bcryptjs";

/** The argon2id parameters of every new hash (argon2-cffi's `PasswordHasher()` defaults). */
export const ARGON2_PARAMS = Object.freeze({
  memoryCost: 65536,
  timeCost: 3,
  parallelism: 4,
  outputLen: 32,
});

/** Salt length argon2-cffi uses, and which @node-rs/argon2 generates. */
const SALT_BYTES = 16;

/** `Algorithm.Argon2id`; the enum is an ambient const enum, unusable under isolatedModules. */
const ARGON2ID = 2 as Algorithm;
/** `Version.V0x13` as returned by `parseOptions`. */
const ARGON2_VERSION_13 = 1;

/**
 * Resource bounds for hashes we did not make (a row edited by hand, a hostile import): beyond
 * these a single verification could pin a worker for minutes or allocate gigabytes. Open
 * WebUI's hashes (bcrypt cost 12, the argon2 parameters above) are far inside them.
 */
const MAX_BCRYPT_COST = 18;
const MAX_ARGON2_MEMORY_KIB = 262_144;
const MAX_ARGON2_TIME_COST = 10;
const MAX_ARGON2_PARALLELISM = 16;

const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/**
 * An argon2id hash, with the current parameters, of a random value nobody knows. Verify a
 * password against it when the email is unknown, so that answer costs the same as a wrong
 * password for a real user with a current hash.
 */
export const DUMMY_HASH =
  "$argon2id$v=19$m=65536,t=3,p=4$L9DR/7xAAwzbDihtfmQdIg$thqMKHKml1RtpoxM9pUSGTKLDCG+OQ1seo09+6ym4PM";

/**
 * A bcrypt hash (cost 12, Open WebUI's default) of a random value nobody knows: verified
 * once at start when legacy bcrypt hashes exist, to learn how slow their verification is.
 */
export const LEGACY_DUMMY_HASH = "$2b$12$6sVckNmXu7LkzixOOmRjS..uVf3f2VFiUVou95Vcs.pi3.51KLjJe";

const ARGON2_OPTIONS = Object.freeze({ ...ARGON2_PARAMS, algorithm: ARGON2ID });

/** Hashes `password` as argon2id with {@link ARGON2_PARAMS} and a fresh random salt, on the native thread pool. */
export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== "string") throw new TypeError("password must be a string");
  return argon2Hash(password, ARGON2_OPTIONS);
}

/** {@link hashPassword} computed on the calling thread, which it blocks (for crypto workers). */
export function hashPasswordOnThisThread(password: string): string {
  if (typeof password !== "string") throw new TypeError("password must be a string");
  return argon2HashSync(password, ARGON2_OPTIONS);
}

/** The two password checks, as one verification flavour runs them. */
interface Checkers {
  argon2(hash: string, password: string): boolean | Promise<boolean>;
  bcrypt(password: string, hash: string): boolean | Promise<boolean>;
}

const NATIVE_POOL: Checkers = { argon2: (h, p) => argon2Verify(h, p), bcrypt: (p, h) => bcrypt.compare(p, h) };
const THIS_THREAD: Checkers = { argon2: (h, p) => argon2VerifySync(h, p), bcrypt: (p, h) => bcrypt.compareSync(p, h) };

/**
 * Whether `password` matches `hash` (`$argon2id$…` or bcrypt `$2b$`/`$2a$`/`$2y$`). Any other
 * format, a malformed hash, or a hash beyond the resource bounds gives `false`. argon2 runs on
 * the native thread pool.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  return check(NATIVE_POOL, password, hash);
}

/** {@link verifyPassword} computed on the calling thread, which it blocks (for crypto workers). */
export function verifyPasswordOnThisThread(password: string, hash: string): Promise<boolean> {
  return check(THIS_THREAD, password, hash);
}

async function check(checkers: Checkers, password: string, hash: string): Promise<boolean> {
  if (typeof password !== "string" || typeof hash !== "string") return false;
  try {
    if (hash.startsWith("$argon2id$")) {
      if (!argon2WithinBounds(hash)) return false;
      return await checkers.argon2(hash, password);
    }
    const bcryptMatch = BCRYPT_HASH.exec(hash);
    if (bcryptMatch !== null) {
      const cost = Number(bcryptMatch[1]);
      if (cost < 4 || cost > MAX_BCRYPT_COST) return false;
      // bcryptjs works on UTF-8 bytes and, like OpenBSD/Python bcrypt, only the first 72 reach
      // the key schedule: longer passwords are truncated, as Open WebUI's hashes expect.
      return await checkers.bcrypt(password, hash);
    }
  } catch {
    // A hash the libraries cannot parse is simply not a match.
  }
  return false;
}

/**
 * Verifies `password` against {@link DUMMY_HASH} and always resolves `false`: spends the work of
 * a real verification for a sign-in whose email matched no user.
 */
export async function spendDummyVerification(password: string): Promise<false> {
  await verifyPassword(password, DUMMY_HASH);
  return false;
}

/**
 * Whether a hash that just verified should be replaced by {@link hashPassword}: true for bcrypt,
 * for any non-argon2id or unreadable value, and for argon2id weaker than {@link ARGON2_PARAMS}
 * (less memory, fewer passes, shorter output or salt, or version 0x10). Parallelism is not
 * compared: it splits the same memory and passes into lanes, so a lower `p` is not weaker.
 */
export function needsRehash(hash: string): boolean {
  if (typeof hash !== "string" || !hash.startsWith("$argon2id$")) return true;
  try {
    const o = parseOptions(hash);
    return (
      o.version !== ARGON2_VERSION_13 ||
      o.memoryCost < ARGON2_PARAMS.memoryCost ||
      o.timeCost < ARGON2_PARAMS.timeCost ||
      o.outputLen < ARGON2_PARAMS.outputLen ||
      o.saltLen < SALT_BYTES
    );
  } catch {
    return true;
  }
}

function argon2WithinBounds(hash: string): boolean {
  const o = parseOptions(hash);
  return (
    o.memoryCost <= MAX_ARGON2_MEMORY_KIB &&
    o.timeCost <= MAX_ARGON2_TIME_COST &&
    o.parallelism <= MAX_ARGON2_PARALLELISM
  );
}
