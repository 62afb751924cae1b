/**
 * The verified-token cache is looked up by a short key derived from the signature segment;
 * an entry must still be served only for the exact token string it was verified for.
 */
import { describe, expect, test } from "bun:test";
import { encodeBase64Url } from "../../src/crypto/base64url.ts";
import { signHs256 } from "../../src/crypto/jwt/jwt-hs256.ts";
import { SessionTokenVerifier } from "../../src/crypto/jwt/session-jwt.ts";
import { VerifiedTokenCache } from "../../src/crypto/jwt/token-cache.ts";

const SECRET = "token-cache-key-secret";
const T0 = 1767225600;
const enc = new TextEncoder();
const segment = (v: unknown) => encodeBase64Url(enc.encode(JSON.stringify(v)));

describe("verified-token cache key", () => {
  test("a token with a swapped payload and the same signature segment is not served from the cache", async () => {
    const verifier = new SessionTokenVerifier({ alg: "HS256", secret: SECRET });
    const genuine = await signHs256(SECRET, { id: "victim", exp: T0 + 3600, jti: "j1", iat: T0 });
    expect((await verifier.verify(genuine, T0)).id).toBe("victim");
    const [header, , signature] = genuine.split(".");
    const swapped = `${header}.${segment({ id: "attacker-chosen", exp: T0 + 3600, jti: "j1", iat: T0 })}.${signature}`;
    expect(verifier.cached(swapped, T0)).toBeUndefined();
    await expect(verifier.verify(swapped, T0)).rejects.toMatchObject({ code: "ERR_TOKEN_SIGNATURE" });
    // The genuine token is still cached after the refused look-alike.
    expect(verifier.cached(genuine, T0)?.id).toBe("victim");
  });

  test("two tokens sharing the key's characters each get only their own claims", () => {
    const cache = new VerifiedTokenCache(10);
    const a = "h.pa.SAMESIGNATURE";
    const b = "h.pb.SAMESIGNATURE";
    cache.set(a, { id: "a" }, 0);
    expect(cache.get(b, T0, 0)).toBeUndefined();
    cache.set(b, { id: "b" }, 0);
    expect(cache.get(b, T0, 0)?.id).toBe("b");
    // Its own claims or a miss (the entry may have been displaced), never b's.
    expect([undefined, "a"]).toContain(cache.get(a, T0, 0)?.id);
    expect(cache.get("SAMESIGNATURE", T0, 0)).toBeUndefined();
  });
});
