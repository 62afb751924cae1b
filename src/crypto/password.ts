import { hash as argon2Hash, verify as argon2Verify } from "@node-rs/argon2";
import bcrypt from "bcryptjs";

/**
 * argon2id parameters of argon2-cffi's PasswordHasher (Open WebUI's): m=64 MiB, t=3, p=4,
 * 32-byte hash, 16-byte salt.
 */
export const ARGON2_PARAMS = { memoryCost: 65536, timeCost: 3, parallelism: 4, outputLen: 32 } as const;

/** A real argon2id hash of a random secret, verified against for unknown emails (same work). */
export const DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$MDEyMzQ1Njc4OWFiY2RlZg$Pv38Z9mpgLGKJqs7h8D2sm34VumfVlVokrfxQ9V6/6A";

/** A new argon2id hash in PHC format. */
export function hashPassword(password: string): Promise<string> {
  // 2 = Argon2id in @node-rs/argon2's Algorithm enum (a const enum, unusable with isolated modules).
  return argon2Hash(password, { ...ARGON2_PARAMS, algorithm: 2 });
}

/** Checks `password` against an argon2id or bcrypt (`$2a$`/`$2b$`/`$2y$`) hash; false for anything unusable. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  try {
    if (stored.startsWith("$argon2")) return await argon2Verify(stored, password);
    if (/^\$2[aby]\$\d\d\$/.test(stored)) return await bcrypt.compare(password, stored);
  } catch {
    // A malformed hash is a failed verification, never an error for the caller.
  }
  return false;
}

/** True for bcrypt hashes and argon2 hashes weaker than {@link ARGON2_PARAMS}. */
export function needsRehash(stored: string): boolean {
  if (!stored.startsWith("$argon2id$")) return true;
  const m = /\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  if (!m) return true;
  return Number(m[1]) < ARGON2_PARAMS.memoryCost || Number(m[2]) < ARGON2_PARAMS.timeCost;
}
