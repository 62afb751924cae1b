import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import Redis from "ioredis";
import { SignJWT } from "jose";
import vectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { sample } from "../helpers/metrics-text.ts";
import { ensureBinaries } from "../harness/services.ts";
import { waitFor } from "../helpers/wait.ts";

const VECTOR_USER = vectors.jwt_with_exp_decoded.id;
let app: TestApp;
let dbUrl: string;

async function insertOpenWebUIUser(id: string, email: string, passwordHash: string, role = "user") {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`insert into "user" (id, email, name, role, profile_image_url, last_active_at, created_at, updated_at)
              values (${id}, ${email}, ${"Vector"}, ${role}, ${"/user.png"}, 0, 0, 0)`;
    await sql`insert into auth (id, email, password, active) values (${id}, ${email}, ${passwordHash}, true)`;
  } finally {
    await sql.end();
  }
}

async function storedHash(id: string): Promise<string> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    return (await sql<{ password: string }[]>`select password from auth where id = ${id}`)[0]!.password;
  } finally {
    await sql.end();
  }
}

beforeAll(async () => {
  dbUrl = await freshDatabaseUrl("compat");
  app = await startTestApp({ DATABASE_URL: dbUrl, REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("compat"), WEBUI_SECRET_KEY: "test-webui-secret-key" });
  await insertOpenWebUIUser(VECTOR_USER, "vector@example.com", vectors.bcrypt_hash_of_password123, "user");
});
afterAll(async () => {
  await app.close();
});

const get = (token: string) => app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${token}` } });

describe("Open WebUI's tokens", () => {
  test("jwt_with_exp is accepted", async () => {
    const r = await get(vectors.jwt_with_exp);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ id: VECTOR_USER, expires_at: vectors.jwt_with_exp_decoded.exp });
  });
  test("jwt_no_exp is accepted", async () => {
    expect((await get(vectors.jwt_no_exp)).status).toBe(200);
  });
  test("jwt_legacy_id_only is accepted", async () => {
    expect((await get(vectors.jwt_legacy_id_only)).status).toBe(200);
  });
  test("jwt_expired is refused with 401", async () => {
    expect((await get(vectors.jwt_expired)).status).toBe(401);
  });
  test("a token minted by PyJWT with a random secret is accepted when Gatehouse runs with that secret", async () => {
    await ensureBinaries();
    const secret = crypto.randomUUID() + crypto.randomUUID();
    const mint = Bun.spawnSync(["/usr/bin/python3", `${import.meta.dir}/../fixtures/mint_owui_token.py`, secret, VECTOR_USER, "3600"]);
    expect(mint.exitCode).toBe(0);
    const token = mint.stdout.toString().trim();
    const other = await startTestApp({ DATABASE_URL: dbUrl, WEBUI_SECRET_KEY: secret, REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("compat2") });
    try {
      const ok = await other.request("/api/v1/auths/", { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      // ... and not by an instance with another secret.
      expect((await get(token)).status).toBe(401);
    } finally {
      await other.close();
    }
  });
  test("a revocation key written straight into Redis (as Open WebUI does, no pub/sub) is honoured within a second", async () => {
    expect((await get(vectors.jwt_with_exp)).status).toBe(200);
    expect(app.instance.auth.revocation.warm).toBe(true);
    // The vector's key layout, under this test's prefix instead of the default one.
    const wireKey = vectors.redis_revoked_token_key.replace(/^open-webui:/, `${app.services.store.prefix}:`);
    const raw = new Redis(await redisUrl());
    await raw.set(wireKey, "1", "EX", 60);
    raw.disconnect();
    const started = performance.now();
    let status = 200;
    while (performance.now() - started < 1000 && status === 200) {
      status = (await get(vectors.jwt_with_exp)).status;
      if (status === 200) await Bun.sleep(10);
    }
    expect(status).toBe(401);
    expect((await get(vectors.jwt_no_exp)).status).toBe(200);
  });
});

describe("Open WebUI's password hashes", () => {
  test("a $2b$ bcrypt hash signs in and is re-hashed to argon2id", async () => {
    const r = await app.request("/api/v1/auths/signin", postJson({ email: "vector@example.com", password: "password123" }));
    expect(r.status).toBe(200);
    expect(await storedHash(VECTOR_USER)).toStartWith("$argon2id$v=19$m=65536,t=3,p=4$");
    const again = await app.request("/api/v1/auths/signin", postJson({ email: "vector@example.com", password: "password123" }));
    expect(again.status).toBe(200);
  });
  test("an $argon2id$ hash from argon2-cffi signs in", async () => {
    const id = crypto.randomUUID();
    await insertOpenWebUIUser(id, "argon@example.com", vectors.argon2id_hash_of_password123);
    const r = await app.request("/api/v1/auths/signin", postJson({ email: "argon@example.com", password: "password123" }));
    expect(r.status).toBe(200);
    expect(await storedHash(id)).toBe(vectors.argon2id_hash_of_password123);
  });
});

describe("API keys", () => {
  test("a plaintext key row written by Open WebUI authenticates (Authorization and x-api-key)", async () => {
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    await sql`insert into api_key (id, user_id, key, created_at, updated_at) values (${`key_${VECTOR_USER}`}, ${VECTOR_USER}, ${vectors.api_key_example}, 0, 0)`;
    await sql.end();
    expect((await get(vectors.api_key_example)).status).toBe(200);
    const viaHeader = await app.request("/api/v1/auths/", { headers: { "x-api-key": vectors.api_key_example } });
    expect(viaHeader.status).toBe(200);
    expect((await get("sk-00000000000000000000000000000000")).status).toBe(401);
  });
  test("a key Gatehouse creates is sk- + 32 hex, stored only as a SHA-256 digest, and works", async () => {
    const signin = await app.request("/api/v1/auths/signin", postJson({ email: "argon@example.com", password: "password123" }));
    const token = ((await signin.json()) as { token: string }).token;
    const created = await app.request("/api/v1/auths/api_key", { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(created.status).toBe(200);
    const key = ((await created.json()) as { api_key: string }).api_key;
    expect(key).toMatch(/^sk-[0-9a-f]{32}$/);
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    const rows = await sql<{ key: string }[]>`select key from api_key where key like 'sha256$%'`;
    const plain = await sql`select 1 from api_key where key = ${key}`;
    await sql.end();
    expect(rows.length).toBe(1);
    expect(plain.length).toBe(0);
    expect((await get(key)).status).toBe(200);
    const del = await app.request("/api/v1/auths/api_key", { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    expect(await del.json()).toBe(true);
    expect((await get(key)).status).toBe(401);
  });
});

test("a warm authenticated request makes zero database checkouts", async () => {
  const signin = await app.request("/api/v1/auths/signin", postJson({ email: "argon@example.com", password: "password123" }));
  const token = ((await signin.json()) as { token: string }).token;
  await get(token); // warms the token, revocation and user caches
  const metrics = async () => sample(await (await app.request("/metrics")).text(), "gatehouse_db_request_checkouts_sum", { route: "/api/v1/auths/" }) ?? 0;
  const count = async () => sample(await (await app.request("/metrics")).text(), "gatehouse_db_request_checkouts_count", { route: "/api/v1/auths/" }) ?? 0;
  const before = await metrics();
  const requestsBefore = await count();
  for (let i = 0; i < 20; i++) expect((await get(token)).status).toBe(200);
  expect(await count()).toBe(requestsBefore + 20);
  expect(await metrics()).toBe(before);
});

describe("every token reject case is a 401, never a 500", () => {
  const key = new TextEncoder().encode("test-webui-secret-key");
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, alg = "HS256") =>
    new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
  const cases: Array<[string, () => Promise<string>]> = [
    ["tampered payload", async () => {
      const [h, , s] = vectors.jwt_with_exp.split(".");
      const payload = btoa(JSON.stringify({ ...vectors.jwt_with_exp_decoded, id: "someone-else" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      return `${h}.${payload}.${s}`;
    }],
    ["tampered signature", async () => vectors.jwt_with_exp.slice(0, -2) + (vectors.jwt_with_exp.endsWith("AA") ? "BB" : "AA")],
    ["alg none", async () => `${btoa('{"alg":"none","typ":"JWT"}').replace(/=+$/, "")}.${vectors.jwt_with_exp.split(".")[1]}.`],
    ["HS512", () => sign({ id: VECTOR_USER, jti: crypto.randomUUID(), iat: now, exp: now + 600 }, "HS512")],
    ["expired", () => sign({ id: VECTOR_USER, exp: now - 5, jti: crypto.randomUUID(), iat: now - 60 })],
    ["aud present", () => sign({ id: VECTOR_USER, exp: now + 600, jti: crypto.randomUUID(), iat: now, aud: "someone" })],
    ["iat in the future", () => sign({ id: VECTOR_USER, exp: now + 7200, jti: crypto.randomUUID(), iat: now + 3600 })],
    ["no id", () => sign({ exp: now + 600, jti: crypto.randomUUID(), iat: now })],
    ["id of a user that does not exist", () => sign({ id: crypto.randomUUID(), exp: now + 600, jti: crypto.randomUUID(), iat: now })],
  ];
  for (const [name, make] of cases) {
    test(name, async () => {
      const r = await get(await make());
      expect(r.status).toBe(401);
      expect(typeof ((await r.json()) as { detail: string }).detail).toBe("string");
    });
  }
  test("a well-formed token with the same claims is accepted (the table above can fail)", async () => {
    expect((await get(await sign({ id: VECTOR_USER, exp: now + 600, jti: crypto.randomUUID(), iat: now }))).status).toBe(200);
  });
});

describe("failed sign-ins do not tell legacy-hash accounts from unknown emails", () => {
  test("with a bcrypt account present, the floor learns bcrypt's cost at start, and an unknown email's failure waits for it", async () => {
    // (The vector user was upgraded by an earlier test: add another legacy account.)
    await insertOpenWebUIUser(crypto.randomUUID(), "legacy-floor@example.com", vectors.bcrypt_hash_of_password123, "user");
    // A second instance on the same database: it finds the legacy hash when it starts.
    const other = await startTestApp({ DATABASE_URL: dbUrl, REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("compat-floor"), WEBUI_SECRET_KEY: "test-webui-secret-key" });
    try {
      const floor = other.instance.auth.failureFloor;
      const learned = await waitFor("the floor to learn the bcrypt cost", () => floor.floorMs() || undefined);
      expect(learned).toBeGreaterThan(0);
      const started = performance.now();
      const r = await other.request("/api/v1/auths/signin", postJson({ email: "nobody-here@example.com", password: "whatever-password" }));
      const elapsed = performance.now() - started;
      expect(r.status).toBe(400);
      // Padded to at least the floor known before the request (timers may round by a millisecond).
      expect(elapsed).toBeGreaterThanOrEqual(learned - 1);
    } finally {
      await other.close();
    }
  });
});
