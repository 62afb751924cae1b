import { afterAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { decodeJwt } from "jose";
import { freshDatabaseUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startRedis } from "../harness/services.ts";
import { waitFor } from "../helpers/wait.ts";
import { bearer, signInToken, signUpToken } from "./revocation-helpers.ts";

/**
 * Issue 12, hole 2: Postgres is the durable record of every revocation. A restart of the
 * only instance (in-memory store) or a Redis that lost its data must not bring a revoked
 * token back.
 */
describe("revocations survive restarts and lost Redis data", () => {
  const procs: ServerProcess[] = [];
  afterAll(() => {
    for (const p of procs) p.kill("SIGKILL");
  });
  const start = async (env: Record<string, string>) => {
    const p = await startServerProcess(env);
    procs.push(p);
    return p;
  };
  const me = (s: ServerProcess, token: string) => fetch(`${s.baseUrl}/api/v1/auths/`, bearer(token)).then((r) => r.status);

  test.concurrent("no REDIS_URL: a signed-out token and a signed-out-everywhere user stay refused after a restart", async () => {
    const env = { DATABASE_URL: await freshDatabaseUrl("rev_restart"), WEBUI_SECRET_KEY: "revocation-restart-secret-0123456789", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user" };
    let s = await start(env);
    const one = await signUpToken(s.baseUrl, "one@example.com");
    const oneOther = await signInToken(s.baseUrl, "one@example.com");
    const two = await signUpToken(s.baseUrl, "two@example.com");
    const twoOther = await signInToken(s.baseUrl, "two@example.com");
    expect((await fetch(`${s.baseUrl}/api/v1/auths/signout`, bearer(one))).status).toBe(200);
    expect((await fetch(`${s.baseUrl}/api/v1/auths/signout/everywhere`, { method: "POST", ...bearer(two) })).status).toBe(200);
    expect([await me(s, one), await me(s, two), await me(s, twoOther), await me(s, oneOther)]).toEqual([401, 401, 401, 200]);
    s.kill("SIGKILL");
    await s.exited;
    s = await start(env);
    expect([await me(s, one), await me(s, two), await me(s, twoOther), await me(s, oneOther)]).toEqual([401, 401, 401, 200]);
  });

  test.concurrent("Redis FLUSHALL and an empty Redis restart: revoked tokens stay refused", async () => {
    const redis = await startRedis();
    try {
      const env = {
        DATABASE_URL: await freshDatabaseUrl("rev_flush"), REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix("rev-flush"),
        WEBUI_SECRET_KEY: "revocation-restart-secret-0123456789", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
      };
      const s = await start(env);
      const one = await signUpToken(s.baseUrl, "one@example.com");
      const oneOther = await signInToken(s.baseUrl, "one@example.com");
      const two = await signUpToken(s.baseUrl, "two@example.com");
      expect((await fetch(`${s.baseUrl}/api/v1/auths/signout`, bearer(one))).status).toBe(200);
      expect((await fetch(`${s.baseUrl}/api/v1/auths/signout/everywhere`, { method: "POST", ...bearer(two) })).status).toBe(200);
      expect([await me(s, one), await me(s, two), await me(s, oneOther)]).toEqual([401, 401, 200]);

      const raw = new Redis(redis.url);
      try {
        await raw.flushall();
        // The key watch reports the flush; give it a moment, then both must still be refused.
        await Bun.sleep(300);
        expect([await me(s, one), await me(s, two), await me(s, oneOther)]).toEqual([401, 401, 200]);
        // ...and the keys are back in Redis for Open WebUI instances sharing it.
        const key = `${env.REDIS_KEY_PREFIX}:auth:token:${decodeJwt(one).jti as string}:revoked`;
        await waitFor("the revocation key re-seeded", async () => (await raw.exists(key)) === 1, 3000);
        expect(await raw.ttl(key)).toBeGreaterThan(3600);
      } finally {
        raw.disconnect();
      }

      redis.kill("SIGKILL");
      await Bun.sleep(200);
      const revived = await startRedis({ port: redis.port });
      try {
        await waitFor("store back", async () => (await fetch(`${s.baseUrl}/readyz`)).status === 200, 15_000, 100);
        expect([await me(s, one), await me(s, two), await me(s, oneOther)]).toEqual([401, 401, 200]);
      } finally {
        await revived.stop();
      }
    } finally {
      await redis.stop();
    }
  });
});
