// Runs on Deno (node:test): Fernet and session tokens are WebCrypto-only, so the Open WebUI
// vectors must hold on Deno exactly as on Bun.
import { test } from "node:test";
import assert from "node:assert/strict";
import vectors from "../../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { FernetError, TokenError } from "../../../src/crypto/errors.ts";
import { deriveFernetKey, fernetDecrypt, fernetEncrypt } from "../../../src/crypto/fernet.ts";
import { pythonJsonDumps } from "../../../src/crypto/python-json.ts";
import { createSessionTokens, SessionTokenSigner, SessionTokenVerifier } from "../../../src/crypto/jwt/session-jwt.ts";
import { generateSigningKey } from "../../../src/crypto/jwt/signing-key.ts";
import { decodeProtectedHeader } from "jose";

const SECRET = "test-webui-secret-key";
const T0 = 1767225600;

test("Fernet: Open WebUI vector decrypts and re-encrypts byte for byte on Deno", async () => {
  const key = await deriveFernetKey(SECRET);
  assert.equal(key, vectors.fernet_key_from_secret);
  const plain = await fernetDecrypt(key, vectors.fernet_token_fixed);
  assert.equal(plain, vectors.fernet_plaintext);
  assert.equal(pythonJsonDumps(JSON.parse(plain)), vectors.fernet_plaintext);
  assert.equal(await fernetEncrypt(key, plain, { now: T0, iv: new Uint8Array(16) }), vectors.fernet_token_fixed);
  await assert.rejects(fernetDecrypt(await deriveFernetKey("other"), vectors.fernet_token_fixed), FernetError);
});

test("HS256: vector signs byte for byte and verifies on Deno", async () => {
  const signer = await SessionTokenSigner.fromConfig({ alg: "HS256", secret: SECRET });
  assert.equal(await signer.sign(vectors.jwt_with_exp_decoded), vectors.jwt_with_exp);
  const verifier = await SessionTokenVerifier.fromConfig({ alg: "HS256", secret: SECRET });
  assert.deepEqual(await verifier.verify(vectors.jwt_with_exp, T0), vectors.jwt_with_exp_decoded);
  assert.deepEqual(await verifier.verify(vectors.jwt_legacy_id_only, T0), { id: vectors.jwt_with_exp_decoded.id });
  await assert.rejects(verifier.verify(vectors.jwt_expired, T0), (e: unknown) => {
    assert.ok(e instanceof TokenError);
    assert.equal(e.code, "ERR_TOKEN_EXPIRED");
    return true;
  });
});

test("EdDSA: generated key signs and verifies through jose on Deno", async () => {
  const { privateJwk, kid } = await generateSigningKey("EdDSA");
  const { signer, verifier } = await createSessionTokens({ alg: "EdDSA", secret: SECRET, privateKeys: [privateJwk] });
  const token = await signer.sign({ id: "u1", exp: T0 + 60 }, T0);
  assert.equal(decodeProtectedHeader(token).kid, kid);
  assert.equal((await verifier.verify(token, T0)).id, "u1");
});
