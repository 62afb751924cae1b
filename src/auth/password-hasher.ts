import { DUMMY_HASH, needsRehash } from "../crypto/password.ts";
import type { CryptoService } from "../crypto/offload/crypto-service.ts";
import type { PasswordHasher } from "./session-tokens.ts";

/** Passwords through the crypto service, so hashing runs on the worker pool by policy. */
export function createPasswordHasher(crypto: CryptoService): PasswordHasher {
  return {
    hash: (password) => crypto.run("password.hash", { password }),
    verify: (password, hash) => crypto.run("password.verify", { password, hash }),
    needsRehash,
    verifyDummy: async (password) => void (await crypto.run("password.verify", { password, hash: DUMMY_HASH })),
    startsNow: () => {
      const pool = crypto.pool;
      return pool === null || crypto.placementOf("password.verify") === "inline" || pool.inFlight < pool.threads;
    },
  };
}
