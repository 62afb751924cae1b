import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { sample } from "../helpers/metrics-text.ts";
import { generateSigningKey } from "../../src/crypto/jwt/signing-key.ts";

const apps: TestApp[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function app(env: Record<string, string>, db?: string): Promise<TestApp> {
  const a = await startTestApp({ DATABASE_URL: db ?? (await freshDatabaseUrl("keys")), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("keys"), ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", ...env });
  apps.push(a);
  return a;
}
const me = (a: TestApp, token: string) => a.request("/api/v1/auths/", { headers: { authorization: `Bearer ${token}` } });
async function signUp(a: TestApp, email: string): Promise<string> {
  const r = await a.request("/api/v1/auths/signup", postJson({ name: email, email, password: "pw" }));
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

describe("asymmetric session tokens", () => {
  test("EdDSA with no keys configured: a key is generated into the data dir, tokens carry kid, JWKS publishes it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-keys-"));
    dirs.push(dataDir);
    const a = await app({ GATEHOUSE_JWT_ALG: "EdDSA", GATEHOUSE_DATA_DIR: dataDir });
    expect(statSync(join(dataDir, "jwt-signing-keys.json")).mode & 0o777).toBe(0o600);
    const token = await signUp(a, "ed@example.com");
    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe("EdDSA");
    expect(typeof header.kid).toBe("string");
    const jwks = await a.request("/.well-known/jwks.json");
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get("cache-control")).toContain("max-age=");
    const doc = (await jwks.json()) as { keys: Array<Record<string, unknown>> };
    expect(doc.keys).toHaveLength(1);
    expect(doc.keys[0]!["kid"]).toBe(header.kid);
    expect(doc.keys[0]!["d"]).toBeUndefined();
    // Any relying party can verify Gatehouse's tokens with the published set.
    const { payload } = await jwtVerify(token, createLocalJWKSet(doc as { keys: [] }));
    expect(typeof payload["id"]).toBe("string");
    expect((await me(a, token)).status).toBe(200);
  });

  test("only the configured algorithm is accepted: HS256 and alg-confusion tokens are refused", async () => {
    const k = await generateSigningKey("RS256");
    const a = await app({ GATEHOUSE_JWT_ALG: "RS256", GATEHOUSE_JWT_PRIVATE_KEYS: JSON.stringify([k.privateJwk]) });
    const good = await signUp(a, "rs@example.com");
    expect(decodeProtectedHeader(good).alg).toBe("RS256");
    const id = ((await (await me(a, good)).json()) as { id: string }).id;
    const now = Math.floor(Date.now() / 1000);
    const hs = await new SignJWT({ id, jti: crypto.randomUUID() }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt(now).setExpirationTime(now + 600)
      .sign(new TextEncoder().encode("test-webui-secret-key"));
    expect((await me(a, hs)).status).toBe(401);
    // HMAC keyed with the public key's JWK text (the classic RS/HS confusion).
    const jwks = (await (await a.request("/.well-known/jwks.json")).json()) as { keys: object[] };
    const confused = await new SignJWT({ id, jti: crypto.randomUUID() }).setProtectedHeader({ alg: "HS256", kid: decodeProtectedHeader(good).kid }).setIssuedAt(now).setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    expect((await me(a, confused)).status).toBe(401);
  });

  test("rotation: tokens of the previous key keep working; once retired past notAfter they are refused", async () => {
    const k1 = await generateSigningKey("ES256");
    const k2 = await generateSigningKey("ES256");
    const db = await freshDatabaseUrl("rotation");
    const before = await app({ GATEHOUSE_JWT_ALG: "ES256", GATEHOUSE_JWT_PRIVATE_KEYS: JSON.stringify([k1.privateJwk]) }, db);
    const old = await signUp(before, "rot@example.com");
    expect(decodeProtectedHeader(old).kid).toBe(k1.kid);

    const rotated = await app({ GATEHOUSE_JWT_ALG: "ES256", GATEHOUSE_JWT_PRIVATE_KEYS: JSON.stringify([k2.privateJwk, k1.privateJwk]) }, db);
    expect((await me(rotated, old)).status).toBe(200);
    const r = await rotated.request("/api/v1/auths/signin", postJson({ email: "rot@example.com", password: "pw" }));
    const fresh = ((await r.json()) as { token: string }).token;
    expect(decodeProtectedHeader(fresh).kid).toBe(k2.kid);
    const jwks = (await (await rotated.request("/.well-known/jwks.json")).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([k1.kid, k2.kid].sort());

    const retired = await app({ GATEHOUSE_JWT_ALG: "ES256", GATEHOUSE_JWT_PRIVATE_KEYS: JSON.stringify([k2.privateJwk, { key: k1.privateJwk, notAfter: Math.floor(Date.now() / 1000) - 1 }]) }, db);
    expect((await me(retired, old)).status).toBe(401);
    expect((await me(retired, fresh)).status).toBe(200);
  });

  test("HS256 deployments publish no JWKS", async () => {
    const a = await app({});
    const r = await a.request("/.well-known/jwks.json");
    expect(r.status).toBe(404);
    expect(((await r.json()) as { detail: string }).detail).toContain("GATEHOUSE_JWT_ALG");
  });
});

describe("password hashing on the worker pool", () => {
  test("a full crypto queue answers 503 with Retry-After; every request gets an answer", async () => {
    const a = await app({ GATEHOUSE_CRYPTO_THREADS: "1", GATEHOUSE_CRYPTO_MAX_QUEUE: "1" });
    await signUp(a, "busy@example.com");
    const results = await Promise.all(Array.from({ length: 12 }, () => a.request("/api/v1/auths/signin", postJson({ email: "busy@example.com", password: "pw" }))));
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    const busy = results.find((r) => r.status === 503);
    expect(busy).toBeDefined();
    expect(busy!.headers.get("retry-after")).toBe("1");
    expect(typeof ((await busy!.json()) as { detail: string }).detail).toBe("string");
    const text = await (await a.request("/metrics")).text();
    expect(sample(text, "gatehouse_crypto_rejected_total", { op: "password.verify" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "gatehouse_crypto_policy", { op: "password.hash", where: "pool" })).toBe(1);
    expect(sample(text, "gatehouse_crypto_task_seconds_count", { op: "password.verify", where: "pool" })).toBeGreaterThanOrEqual(1);
  });
});
