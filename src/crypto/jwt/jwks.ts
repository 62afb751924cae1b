/** The JWKS document (RFC 7517 §5) that publishes a {@link KeyRing}'s public keys. */
import type { KeyRing } from "./key-ring.ts";

/**
 * Public keys only (members whitelisted per key type, never `d`/`p`/`q`/`dp`/`dq`/`qi`/`k`),
 * each with `kid`, `alg` and `use: "sig"`, newest first. With `nowSeconds`, retired keys past
 * their `notAfter` are left out, since nothing they signed is accepted any more.
 */
export function jwksDocument(ring: KeyRing, nowSeconds?: number): { keys: JsonWebKey[] } {
  return {
    keys: ring.verifiers
      .filter((k) => nowSeconds === undefined || k.notAfter === undefined || nowSeconds <= k.notAfter)
      .map((k) => ({ ...k.key.publicJwk })),
  };
}
