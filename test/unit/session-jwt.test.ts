import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { calculateJwkThumbprint, decodeProtectedHeader, exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import vectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { encodeBase64Url } from "../../src/crypto/base64url.ts";
import { jwksDocument } from "../../src/crypto/jwt/jwks.ts";
import { KeyRing } from "../../src/crypto/jwt/key-ring.ts";
import { createSessionTokens, SessionTokenSigner, SessionTokenVerifier } from "../../src/crypto/jwt/session-jwt.ts";
import {
  signSessionTokenWith,
  tryVerifySessionTokenWith,
  verifySessionTokenWith,
} from "../../src/crypto/jwt/session-jwt-with.ts";
import { generateSigningKey, SigningKey, type AsymmetricAlg } from "../../src/crypto/jwt/signing-key.ts";
import { SigningKeyError, TokenError, type TokenErrorCode } from "../../src/crypto/errors.ts";

const SECRET = "test-webui-secret-key";
const T0 = 1767225600; // the vectors' iat
const ID = vectors.jwt_with_exp_decoded.id;
const enc = new TextEncoder();

const segment = (v: unknown) => encodeBase64Url(enc.encode(typeof v === "string" ? v : JSON.stringify(v)));

/** An HMAC-signed token with any header and payload, to build hostile inputs. */
async function forge(header: unknown, payload: unknown, secret: string = SECRET, hash = "SHA-256"): Promise<string> {
  const input = `${segment(header)}.${segment(payload)}`;
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash }, false, ["sign"]);
  return `${input}.${encodeBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(input))))}`;
}
const HS = { alg: "HS256", typ: "JWT" };

async function refusedWith(p: Promise<unknown>, code: TokenErrorCode): Promise<TokenError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TokenError);
    expect((e as TokenError).code).toBe(code);
    return e as TokenError;
  }
  throw new Error(`expected ${code}, but the token was accepted`);
}

const hs = () => SessionTokenVerifier.fromConfig({ alg: "HS256", secret: SECRET, cacheSize: 0 });
const header = (token: string) => decodeProtectedHeader(token);

afterEach(() => {
  // spyOn replaces crypto.subtle.verify on the shared instance; put it back after every test.
  (crypto.subtle.verify as unknown as { mockRestore?: () => void }).mockRestore?.();
});

describe("HS256: Open WebUI vectors", () => {
  test("signing jwt_with_exp_decoded reproduces jwt_with_exp byte for byte", async () => {
    const signer = await SessionTokenSigner.fromConfig({ alg: "HS256", secret: SECRET });
    expect(await signer.sign(vectors.jwt_with_exp_decoded)).toBe(vectors.jwt_with_exp);
    expect(await signSessionTokenWith("HS256", SECRET, vectors.jwt_with_exp_decoded)).toBe(vectors.jwt_with_exp);
  });

  test("jwt_with_exp verifies to its decoded claims", async () => {
    expect(await (await hs()).verify(vectors.jwt_with_exp, T0 + 10)).toEqual(vectors.jwt_with_exp_decoded);
  });

  test("jwt_no_exp verifies without exp", async () => {
    const claims = await (await hs()).verify(vectors.jwt_no_exp, T0 + 10 ** 9);
    expect(claims.id).toBe(ID);
    expect("exp" in claims).toBe(false);
  });

  test("jwt_expired is ERR_TOKEN_EXPIRED", async () => {
    await refusedWith((await hs()).verify(vectors.jwt_expired, T0), "ERR_TOKEN_EXPIRED");
  });

  test("jwt_legacy_id_only verifies with just id", async () => {
    expect(await (await hs()).verify(vectors.jwt_legacy_id_only, T0)).toEqual({ id: ID });
  });

  test("sign fills jti (uuid4) and iat, and omits exp when null", async () => {
    const signer = await SessionTokenSigner.fromConfig({ alg: "HS256", secret: SECRET });
    const claims = await (await hs()).verify(await signer.sign({ id: "u1", exp: null }, T0 + 0.9), T0 + 1);
    expect(Object.keys(claims)).toEqual(["id", "jti", "iat"]);
    expect(claims.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(claims.iat).toBe(T0);
  });

  test("unsignable claims are ERR_TOKEN_CLAIMS", async () => {
    const signer = await SessionTokenSigner.fromConfig({ alg: "HS256", secret: SECRET });
    await refusedWith(signer.sign({ id: "" }), "ERR_TOKEN_CLAIMS");
    await refusedWith(signer.sign({ id: "u", exp: 1.5 }), "ERR_TOKEN_CLAIMS");
  });
});

describe("HS256: refusals", () => {
  test("a tampered payload or signature is ERR_TOKEN_SIGNATURE", async () => {
    const v = await hs();
    const [h, , s] = vectors.jwt_with_exp.split(".");
    const otherPayload = segment({ ...vectors.jwt_with_exp_decoded, id: "someone-else" });
    await refusedWith(v.verify(`${h}.${otherPayload}.${s}`, T0), "ERR_TOKEN_SIGNATURE");
    const sig = s ?? "";
    const flipped = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
    await refusedWith(v.verify(`${h}.${vectors.jwt_with_exp.split(".")[1]}.${flipped}`, T0), "ERR_TOKEN_SIGNATURE");
  });

  test("changing any single character anywhere is refused", async () => {
    const v = await hs();
    const t = vectors.jwt_with_exp;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === ".") continue;
      const forged = t.slice(0, i) + (t[i] === "A" ? "B" : "A") + t.slice(i + 1);
      await expect(v.verify(forged, T0)).rejects.toBeInstanceOf(TokenError);
    }
  });

  test("alg none is ERR_TOKEN_ALG", async () => {
    const [, p] = vectors.jwt_with_exp.split(".");
    await refusedWith((await hs()).verify(`${segment({ alg: "none", typ: "JWT" })}.${p}.`, T0), "ERR_TOKEN_ALG");
    await refusedWith((await hs()).verify(`${segment({ alg: "None" })}.${p}.`, T0), "ERR_TOKEN_ALG");
  });

  test("a correctly signed HS512 token is ERR_TOKEN_ALG", async () => {
    const token = await forge({ alg: "HS512", typ: "JWT" }, vectors.jwt_with_exp_decoded, SECRET, "SHA-512");
    await refusedWith((await hs()).verify(token, T0), "ERR_TOKEN_ALG");
  });

  test("an aud claim is ERR_TOKEN_AUDIENCE", async () => {
    const token = await forge(HS, { id: ID, aud: "anything", iat: T0 });
    await refusedWith((await hs()).verify(token, T0), "ERR_TOKEN_AUDIENCE");
  });

  test("iat beyond the 30 s leeway is ERR_TOKEN_IAT_FUTURE; within it, accepted", async () => {
    const v = await hs();
    await refusedWith(v.verify(await forge(HS, { id: ID, iat: T0 + 31 }), T0), "ERR_TOKEN_IAT_FUTURE");
    expect((await v.verify(await forge(HS, { id: ID, iat: T0 + 30 }), T0)).iat).toBe(T0 + 30);
    await refusedWith(v.verify(await forge(HS, { id: ID, nbf: T0 + 31 }), T0), "ERR_TOKEN_IAT_FUTURE");
    const strict = new SessionTokenVerifier({ alg: "HS256", secret: SECRET }, { iatLeewaySeconds: 0 });
    await refusedWith(strict.verify(await forge(HS, { id: ID, iat: T0 + 1 }), T0), "ERR_TOKEN_IAT_FUTURE");
  });

  test("exp equal to now is expired, as in PyJWT; one second later it is not", async () => {
    const v = await hs();
    await refusedWith(v.verify(await forge(HS, { id: ID, exp: T0 }), T0), "ERR_TOKEN_EXPIRED");
    expect((await v.verify(await forge(HS, { id: ID, exp: T0 + 1 }), T0)).exp).toBe(T0 + 1);
  });

  test("missing, empty or non-string id, and mistyped claims, are ERR_TOKEN_CLAIMS", async () => {
    const v = await hs();
    for (const payload of [{ iat: T0 }, { id: "" }, { id: 42 }, { id: ID, exp: "9999999999" }, { id: ID, jti: 7 }]) {
      await refusedWith(v.verify(await forge(HS, payload), T0), "ERR_TOKEN_CLAIMS");
    }
  });

  test("a 10 KB token is ERR_TOKEN_MALFORMED before any crypto", async () => {
    const spy = spyOn(crypto.subtle, "verify");
    const big = await forge(HS, { id: ID, pad: "x".repeat(10_000) });
    await refusedWith((await hs()).verify(big, T0), "ERR_TOKEN_MALFORMED");
    expect(spy).not.toHaveBeenCalled();
  });

  test("garbage is ERR_TOKEN_MALFORMED, never a raw exception", async () => {
    const v = await hs();
    const [h, p, s] = vectors.jwt_with_exp.split(".");
    const garbage = [
      "", "a", "a.b", "a.b.c", "..", "a..c", ".b.c", `${h}.${p}.${s}.x`, `${h}.${p}.${s}=`, `${h} .${p}.${s}`,
      `${segment("not json")}.${p}.${s}`, `${segment("[1]")}.${p}.${s}`, `${segment("null")}.${p}.${s}`,
      `${h}.${segment("[]")}.${s}`, `${h}.${segment("\"str\"")}.${s}`, `${h}.%%%.${s}`, `${h}.${p}.$$$`,
      `${encodeBase64Url(new Uint8Array([0xff, 0xfe, 0x7b]))}.${p}.${s}`, `${segment({ typ: "JWT" })}.${p}.${s}`,
      `${segment({ alg: "HS256", crit: ["exp"] })}.${p}.${s}`, `${segment({ alg: "HS256", kid: 5 })}.${p}.${s}`,
      "😀.😀.😀",
    ];
    for (const g of garbage) await refusedWith(v.verify(g, T0), "ERR_TOKEN_MALFORMED");
    for (const g of [undefined, null, 42, {}]) await refusedWith(v.verify(g as unknown as string, T0), "ERR_TOKEN_MALFORMED");
  });

  test("a token minted with a different random secret is ERR_TOKEN_SIGNATURE", async () => {
    const random = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    const token = await signSessionTokenWith("HS256", random, { id: ID }, T0);
    await refusedWith((await hs()).verify(token, T0), "ERR_TOKEN_SIGNATURE");
  });

  test("error messages never contain the token or its claims", async () => {
    const e = await refusedWith((await hs()).verify(vectors.jwt_expired, T0), "ERR_TOKEN_EXPIRED");
    expect(e.message).not.toContain(vectors.jwt_expired.slice(0, 20));
    expect(e.message).not.toContain(ID);
  });
});

describe("asymmetric algorithms", () => {
  for (const alg of ["EdDSA", "ES256", "RS256"] as const) {
    test(`${alg}: sign + verify round trip, kid = RFC 7638 thumbprint`, async () => {
      const { privateJwk, kid } = await generateSigningKey(alg);
      expect(typeof privateJwk.d).toBe("string");
      const { signer, verifier } = await createSessionTokens({ alg, secret: SECRET, privateKeys: [privateJwk] });
      const token = await signer.sign({ id: ID, exp: T0 + 3600 }, T0);
      expect(header(token)).toEqual({ alg, typ: "JWT", kid });
      expect(kid).toBe(await calculateJwkThumbprint(privateJwk as Parameters<typeof calculateJwkThumbprint>[0]));
      const claims = await verifier.verify(token, T0 + 1);
      expect(claims.id).toBe(ID);
      expect(Object.keys(claims)).toEqual(["id", "exp", "jti", "iat"]);
      const [h, , s] = token.split(".");
      await refusedWith(verifier.verify(`${h}.${segment({ id: "x", iat: T0 })}.${s}`, T0), "ERR_TOKEN_SIGNATURE");
      await refusedWith(verifier.verify(token, T0 + 3600), "ERR_TOKEN_EXPIRED");
    });
  }

  test("PKCS#8 PEM keys load; a key of the wrong type for the alg is SigningKeyError", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const { signer, verifier } = await createSessionTokens({ alg: "ES256", secret: SECRET, privateKeys: [pem] });
    expect((await verifier.verify(await signer.sign({ id: ID }, T0), T0)).id).toBe(ID);
    const err = await SessionTokenSigner.fromConfig({ alg: "RS256", secret: SECRET, privateKeys: [pem] }).catch((e) => e);
    expect(err).toBeInstanceOf(SigningKeyError);
    expect(String(err.message)).not.toContain("PRIVATE");
    const none = await SessionTokenSigner.fromConfig({ alg: "EdDSA", secret: SECRET }).catch((e) => e);
    expect(none.code).toBe("ERR_SIGNING_KEY_MISSING");
  });

  test("HS/RS confusion: an HS256 token keyed with the RSA public key is refused under RS256", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const { verifier } = await createSessionTokens({ alg: "RS256", secret: SECRET, privateKeys: [await exportPKCS8(privateKey)] });
    const forged = await forge(HS, { id: ID, iat: T0 }, await exportSPKI(publicKey));
    await refusedWith(verifier.verify(forged, T0), "ERR_TOKEN_ALG");
    const withKid = await forge({ ...HS, kid: (await SigningKey.import("RS256", await exportPKCS8(privateKey))).kid }, { id: ID }, await exportSPKI(publicKey));
    await refusedWith(verifier.verify(withKid, T0), "ERR_TOKEN_ALG");
  });

  test("HS/RS confusion the other way: an RS256 token is refused under HS256", async () => {
    const { privateJwk } = await generateSigningKey("RS256");
    const token = await signSessionTokenWith("RS256", privateJwk, { id: ID }, T0);
    await refusedWith((await hs()).verify(token, T0), "ERR_TOKEN_ALG");
    const ed = await generateSigningKey("EdDSA");
    await refusedWith(verifySessionTokenWith("EdDSA", [{ jwk: ed.privateJwk }], token, T0), "ERR_TOKEN_ALG");
  });

  test("unknown or missing kid is ERR_TOKEN_SIGNATURE", async () => {
    const a = await generateSigningKey("EdDSA");
    const b = await generateSigningKey("EdDSA");
    const { verifier } = await createSessionTokens({ alg: "EdDSA", secret: SECRET, privateKeys: [a.privateJwk] });
    await refusedWith(verifier.verify(await signSessionTokenWith("EdDSA", b.privateJwk, { id: ID }, T0), T0), "ERR_TOKEN_SIGNATURE");
    const [, p, s] = (await signSessionTokenWith("EdDSA", a.privateJwk, { id: ID }, T0)).split(".");
    await refusedWith(verifier.verify(`${segment({ alg: "EdDSA", typ: "JWT" })}.${p}.${s}`, T0), "ERR_TOKEN_SIGNATURE");
  });
});

describe("key rotation", () => {
  test("rotate keeps old tokens valid; retiring with notAfter in the past refuses them", async () => {
    const k1 = await generateSigningKey("ES256");
    const k2 = await generateSigningKey("ES256");
    const { keys, signer, verifier } = await createSessionTokens({ alg: "ES256", secret: SECRET, privateKeys: [k1.privateJwk] });
    const ring = keys as KeyRing;
    const old = await signer.sign({ id: ID }, T0);
    expect(header(old).kid).toBe(k1.kid);

    await ring.rotate(k2.privateJwk);
    const fresh = await signer.sign({ id: ID }, T0);
    expect(header(fresh).kid).toBe(k2.kid);
    expect((await verifier.verify(old, T0 + 5)).id).toBe(ID); // also fills the cache

    ring.retire(k1.kid, T0 + 100);
    expect((await verifier.verify(old, T0 + 100)).id).toBe(ID);
    await refusedWith(verifier.verify(old, T0 + 101), "ERR_TOKEN_KEY_RETIRED");

    ring.retire(k1.kid, T0 - 1);
    await refusedWith(verifier.verify(old, T0), "ERR_TOKEN_KEY_RETIRED");
    expect((await verifier.verify(fresh, T0)).id).toBe(ID);
    expect(jwksDocument(ring, T0).keys.map((k) => (k as { kid?: string }).kid)).toEqual([k2.kid]);

    ring.retire(k2.kid, T0 + 10);
    await expect(signer.sign({ id: ID }, T0)).rejects.toBeInstanceOf(SigningKeyError);
    expect(ring.remove(k1.kid)).toBe(true);
    expect(ring.find(k1.kid)).toBeUndefined();
  });

  test("a ring entry configured as retired verifies only, and never signs", async () => {
    const k1 = await generateSigningKey("EdDSA");
    const k2 = await generateSigningKey("EdDSA");
    const token1 = await signSessionTokenWith("EdDSA", k1.privateJwk, { id: ID }, T0);
    const { signer, verifier } = await createSessionTokens({
      alg: "EdDSA",
      secret: SECRET,
      privateKeys: [{ key: JSON.stringify(k1.privateJwk), notAfter: T0 + 60 }, k2.privateJwk],
    });
    expect(header(await signer.sign({ id: ID }, T0)).kid).toBe(k2.kid);
    expect((await verifier.verify(token1, T0 + 60)).id).toBe(ID);
    await refusedWith(verifier.verify(token1, T0 + 61), "ERR_TOKEN_KEY_RETIRED");
  });

  test("the JWKS document carries public members only, with kid, alg and use", async () => {
    const keys = await Promise.all((["RS256", "RS256"] as AsymmetricAlg[]).map((a) => generateSigningKey(a)));
    const ring = await KeyRing.from("RS256", keys.map((k) => k.privateJwk));
    const doc = jwksDocument(ring);
    expect(doc.keys).toHaveLength(2);
    for (const [i, jwk] of doc.keys.entries()) {
      for (const member of ["d", "p", "q", "dp", "dq", "qi", "k", "oth"]) expect(member in jwk).toBe(false);
      expect(jwk).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: keys[i]?.kid });
      expect(typeof jwk.n).toBe("string");
    }
    expect(JSON.stringify(doc)).not.toContain(String(keys[0]?.privateJwk.d));
  });
});

describe("verified-token cache", () => {
  test("a hit returns the same claims without verifying again", async () => {
    const verifier = new SessionTokenVerifier({ alg: "HS256", secret: SECRET });
    const first = await verifier.verify(vectors.jwt_with_exp, T0);
    const spy = spyOn(crypto.subtle, "verify");
    expect(await verifier.verify(vectors.jwt_with_exp, T0 + 1)).toBe(first);
    expect(verifier.cached(vectors.jwt_with_exp, T0 + 1)).toBe(first);
    expect(spy).not.toHaveBeenCalled();
    expect(Object.isFrozen(first)).toBe(true);
  });

  test("a cached token is refused once its exp passes", async () => {
    const verifier = new SessionTokenVerifier({ alg: "HS256", secret: SECRET });
    const token = await signSessionTokenWith("HS256", SECRET, { id: ID, exp: T0 + 100 }, T0);
    expect((await verifier.verify(token, T0 + 99)).id).toBe(ID);
    expect(verifier.cached(token, T0 + 99)).toBeDefined();
    expect(verifier.cached(token, T0 + 100)).toBeUndefined();
    await refusedWith(verifier.verify(token, T0 + 100), "ERR_TOKEN_EXPIRED");
  });

  test("the cache is bounded", async () => {
    const verifier = new SessionTokenVerifier({ alg: "HS256", secret: SECRET }, { cacheSize: 2 });
    const tokens = await Promise.all([1, 2, 3].map((n) => signSessionTokenWith("HS256", SECRET, { id: `u${n}` }, T0)));
    for (const t of tokens) await verifier.verify(t, T0);
    expect(verifier.cached(tokens[0] ?? "", T0)).toBeUndefined();
    expect(verifier.cached(tokens[2] ?? "", T0)?.id).toBe("u3");
  });

  test("refused tokens are never cached", async () => {
    const verifier = new SessionTokenVerifier({ alg: "HS256", secret: SECRET });
    await refusedWith(verifier.verify(vectors.jwt_expired, T0), "ERR_TOKEN_EXPIRED");
    expect(verifier.cached(vectors.jwt_expired, 0)).toBeUndefined();
  });
});

describe("plain-argument functions (worker threads)", () => {
  test("HS256 and EdDSA with structured-cloned material", async () => {
    expect((await verifySessionTokenWith("HS256", SECRET, vectors.jwt_with_exp, T0)).id).toBe(ID);
    const ring = await KeyRing.from("EdDSA", [(await generateSigningKey("EdDSA")).privateJwk]);
    const signing = structuredClone(ring.current.exportPrivateJwk());
    const material = structuredClone(ring.verificationMaterial());
    expect(JSON.stringify(material)).not.toContain('"d"');
    const token = await signSessionTokenWith("EdDSA", signing, { id: ID, exp: T0 + 10 }, T0);
    expect((await verifySessionTokenWith("EdDSA", material, token, T0)).id).toBe(ID);
    expect(await tryVerifySessionTokenWith("EdDSA", material, token, T0 + 10)).toEqual({ ok: false, code: "ERR_TOKEN_EXPIRED" });
    expect(await tryVerifySessionTokenWith("HS256", SECRET, "nope", T0)).toEqual({ ok: false, code: "ERR_TOKEN_MALFORMED" });
    const ok = await tryVerifySessionTokenWith("HS256", SECRET, vectors.jwt_legacy_id_only, T0);
    expect(ok).toEqual({ ok: true, claims: { id: ID } });
    expect(TokenError.isCode("ERR_TOKEN_EXPIRED")).toBe(true);
    expect(TokenError.isCode("toString")).toBe(false);
  });
});
