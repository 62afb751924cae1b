import { DUMMY_HASH, hashPassword, needsRehash, verifyPassword } from "../crypto/password.ts";
import type { PasswordHasher } from "./session-tokens.ts";

/** The password hasher the auth routes use, on src/crypto's password functions. */
export function createPasswordHasher(): PasswordHasher {
  return {
    hash: hashPassword,
    verify: verifyPassword,
    needsRehash,
    verifyDummy: async (password) => void (await verifyPassword(password, DUMMY_HASH)),
  };
}
