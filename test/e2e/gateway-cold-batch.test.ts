/**
 * A burst of chat calls from distinct users with cold caches, through the whole app on a
 * pool of one connection: their user and model-access reads are batched (a few checkouts,
 * not one per request, counted on /metrics), and every request still gets its own user's
 * answer — a deleted user and a pending one in the same burst are refused as alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { sample } from "../helpers/metrics-text.ts";
import { signHs256 } from "../../src/crypto/jwt/jwt-hs256.ts";
import { startFakeLlm, type FakeLlm } from "../../bench/fake-llm.ts";

const SECRET = "cold-batch-secret";
const ACTIVE = 30;
const MODEL = "fake-gpt";

let fake: FakeLlm;
let app: TestApp;
const ids = Array.from({ length: ACTIVE }, (_, i) => `cold-${i}`);
const PENDING = "cold-pending";
const GONE = "cold-gone";

const mint = (id: string) => {
  const now = Math.floor(Date.now() / 1000);
  return signHs256(SECRET, { id, jti: crypto.randomUUID(), iat: now, exp: now + 3600 });
};

async function checkouts(op: string): Promise<number> {
  return sample(await (await app.request("/metrics")).text(), "gatehouse_db_checkout_wait_seconds_count", { op }) ?? 0;
}

beforeAll(async () => {
  fake = startFakeLlm({ tokens: 2, intervalMs: 5, firstTokenMs: 5 });
  const dbUrl = await freshDatabaseUrl("gateway_cold_batch");
  app = await startTestApp({
    DATABASE_URL: dbUrl,
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("cold-batch"),
    WEBUI_SECRET_KEY: SECRET,
    DATABASE_POOL_SIZE: "1",
    DATABASE_POOL_MAX_OVERFLOW: "0",
    OPENAI_API_BASE_URL: fake.url,
    GATEHOUSE_LOG_LEVEL: "warn",
  });
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const now = Math.floor(Date.now() / 1000);
    const rows = [...ids.map((id) => ({ id, role: "user" })), { id: PENDING, role: "pending" }]
      .map(({ id, role }) => ({ id, email: `${id}@example.com`, name: id, role, profile_image_url: "/user.png", last_active_at: now, created_at: now, updated_at: now }));
    await sql`insert into auth ${sql(rows.map((u) => ({ id: u.id, email: u.email, password: "x", active: true })))}`;
    await sql`insert into "user" ${sql(rows)}`;
    await sql`insert into gatehouse_model_access (user_id, model_id, granted_at, granted_by) values ('*', ${MODEL}, ${now}, null)`;
  } finally {
    await sql.end();
  }
});

afterAll(async () => {
  await app?.close();
  await fake?.stop();
});

describe("cold chat burst from distinct users", () => {
  test("32 cold calls at once: a few user and model-access checkouts, each user answered as themselves", async () => {
    const before = { users: await checkouts("user.by_id"), grants: await checkouts("model_access.for_user") };
    const callers = [...ids, PENDING, GONE];
    const tokens = await Promise.all(callers.map(mint));
    const answers = await Promise.all(tokens.map(async (token) => {
      const res = await app.request("/api/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }] }),
      });
      return { status: res.status, body: (await res.json()) as { detail?: string } };
    }));
    expect(answers.slice(0, ACTIVE).map((a) => a.status)).toEqual(ids.map(() => 200));
    // The pending user's row was read in a batch with the others, and still refused for its role.
    expect(answers[ACTIVE]!.status).toBe(401);
    expect(answers[ACTIVE]!.body.detail).toContain("You do not have permission");
    // A token of a user without a row (deleted) is refused, as alone.
    expect(answers[ACTIVE + 1]!.status).toBe(401);
    expect(answers[ACTIVE + 1]!.body.detail).toContain("token is invalid");
    // One checkout per request unbatched: 32 user reads and 30 grant reads.
    const users = (await checkouts("user.by_id")) - before.users;
    const grants = (await checkouts("model_access.for_user")) - before.grants;
    expect(users).toBeGreaterThanOrEqual(1);
    expect(users).toBeLessThanOrEqual(8);
    expect(grants).toBeGreaterThanOrEqual(1);
    expect(grants).toBeLessThanOrEqual(8);
    expect(fake.stats().chatRequests).toBe(ACTIVE);
  });
});
