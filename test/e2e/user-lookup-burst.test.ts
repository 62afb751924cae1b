/**
 * A burst of requests from a few users with cold caches must not queue one database checkout
 * per request: concurrent misses for one user share a single read. Before, 2,500 socket
 * upgrades for 10 users overflowed GATEHOUSE_DB_MAX_WAITERS and were refused 1013
 * (ERR_DB_POOL_SATURATED) — here the same cause is shown with a waiter bound of 5.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";

const BURST = 300;
let app: TestApp;
const tokens: string[] = [];
const ids: string[] = [];

beforeAll(async () => {
  app = await startTestApp({
    DATABASE_URL: await freshDatabaseUrl("user_burst"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("user-burst"),
    ENABLE_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
    DATABASE_POOL_SIZE: "1",
    DATABASE_POOL_MAX_OVERFLOW: "0",
    GATEHOUSE_DB_MAX_WAITERS: "5",
    GATEHOUSE_LOG_LEVEL: "warn",
  });
  for (const name of ["a", "b", "c"]) {
    const r = await app.request("/api/v1/auths/signup", postJson({ name, email: `${name}@example.com`, password: `pw-${name}` }));
    expect(r.status).toBe(200);
    const body = (await r.json()) as { token: string; id: string };
    tokens.push(body.token);
    ids.push(body.id);
  }
}, 60_000);

afterAll(async () => {
  await app?.close();
});

describe("cold user cache under a burst", () => {
  test(`${BURST} concurrent authenticated requests of 3 users with cold caches all answer 200`, async () => {
    // Sign-up warmed the cache; drop the users so every request of the burst misses.
    for (const id of ids) await app.instance.auth.userCache.invalidate(id);
    const statuses = await Promise.all(Array.from({ length: BURST }, async (_, i) => {
      const r = await app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${tokens[i % tokens.length]}` } });
      await r.arrayBuffer();
      return r.status;
    }));
    const byStatus: Record<number, number> = {};
    for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1;
    console.log(`statuses: ${JSON.stringify(byStatus)}`);
    expect(byStatus).toEqual({ 200: BURST });
  }, 60_000);
});
