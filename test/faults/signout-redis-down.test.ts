import { afterAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startRedis } from "../harness/services.ts";
import { waitFor, within } from "../helpers/wait.ts";
import { bearer, signInToken, signUpToken } from "../security/revocation-helpers.ts";

/**
 * Issue 20, failure 1: a sign-out during a Redis outage succeeds (200, cookies cleared), is
 * enforced by the other instance within 2 s, and stays enforced after Redis comes back empty.
 */
describe("sign-out while Redis is down", () => {
  const procs: ServerProcess[] = [];
  afterAll(() => {
    for (const p of procs) p.kill("SIGKILL");
  });

  for (const mode of ["closed", "open"] as const) {
    test(`GATEHOUSE_REDIS_FAILURE_MODE=${mode}`, async () => {
      const redis = await startRedis();
      try {
        const env = {
          DATABASE_URL: await freshDatabaseUrl(`signout_down_${mode}`), REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix("signout-down"),
          WEBUI_SECRET_KEY: "signout-redis-down-secret-0123456789", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
          GATEHOUSE_REDIS_FAILURE_MODE: mode,
        };
        const a = await startServerProcess(env);
        procs.push(a);
        const b = await startServerProcess(env);
        procs.push(b);
        const me = async (s: ServerProcess, t: string) => (await fetch(`${s.baseUrl}/api/v1/auths/`, bearer(t))).status;
        const token = await signUpToken(a.baseUrl, `down-${mode}@example.com`);
        const everywhere = await signUpToken(a.baseUrl, `all-${mode}@example.com`);
        const everywhereOther = await signInToken(a.baseUrl, `all-${mode}@example.com`);
        expect([await me(b, token), await me(b, everywhereOther)]).toEqual([200, 200]);

        redis.kill("SIGKILL");
        await redis.stop();
        const out = await fetch(`${a.baseUrl}/api/v1/auths/signout`, bearer(token, { headers: { cookie: `token=${token}` } }));
        expect(out.status).toBe(200);
        const cleared = out.headers.getSetCookie().find((c) => c.startsWith("token="));
        expect(cleared).toContain("Max-Age=0");
        const all = await fetch(`${a.baseUrl}/api/v1/auths/signout/everywhere`, { method: "POST", ...bearer(everywhere) });
        expect(all.status).toBe(200);
        const took = await within(2000, async () => (await me(b, token)) === 401 && (await me(b, everywhereOther)) === 401);
        console.log(`${mode}: sign-out on A during the outage refused on B after ${took.toFixed(0)} ms`);
        expect(await me(a, token)).toBe(401);

        const revived = await startRedis({ port: redis.port });
        try {
          for (const s of [a, b]) await waitFor("store back", async () => (await fetch(`${s.baseUrl}/readyz`)).status === 200, 15_000, 100);
          expect([await me(a, token), await me(b, token), await me(a, everywhereOther), await me(b, everywhereOther)]).toEqual([401, 401, 401, 401]);
        } finally {
          await revived.stop();
        }
      } finally {
        await redis.stop();
      }
    });
  }
});
