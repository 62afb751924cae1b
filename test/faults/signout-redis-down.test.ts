import { afterAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startRedis } from "../harness/services.ts";
import { waitFor, within } from "../helpers/wait.ts";
import { decodeJwt } from "jose";
import { postJson } from "../helpers/cookie-jar.ts";
import { bearer, signInToken, signUpToken } from "../security/revocation-helpers.ts";

/**
 * Issue 20, failure 1: a sign-out, sign out everywhere, password change and admin deletion
 * during a Redis outage succeed (200, cookies cleared), are enforced by the other instance
 * within 2 s, and stay enforced after Redis comes back empty.
 */
describe("sign-out while Redis is down", () => {
  const procs: ServerProcess[] = [];
  afterAll(() => {
    for (const p of procs) p.kill("SIGKILL");
  });

  for (const mode of ["closed", "open"] as const) {
    test.concurrent(`GATEHOUSE_REDIS_FAILURE_MODE=${mode}`, async () => {
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
        const admin = await signUpToken(a.baseUrl, `admin-${mode}@example.com`); // the first account is the admin
        const token = await signUpToken(a.baseUrl, `down-${mode}@example.com`);
        const everywhere = await signUpToken(a.baseUrl, `all-${mode}@example.com`);
        const everywhereOther = await signInToken(a.baseUrl, `all-${mode}@example.com`);
        const changer = await signUpToken(a.baseUrl, `pw-${mode}@example.com`);
        const changerOther = await signInToken(a.baseUrl, `pw-${mode}@example.com`);
        const victim = await signUpToken(a.baseUrl, `victim-${mode}@example.com`);
        const revoked = [token, everywhereOther, changerOther, victim];
        const statuses = async (servers: ServerProcess[]) => Promise.all(servers.flatMap((s) => revoked.map((t) => me(s, t))));
        expect(await statuses([b])).toEqual([200, 200, 200, 200]);

        redis.kill("SIGKILL");
        await redis.stop();
        // Each revocation must be enforced on B within 2 s of its answer.
        const enforcedOnB = async (what: string, res: Response, t: string) => {
          const answeredAt = performance.now();
          expect(res.status).toBe(200);
          await within(2000, async () => (await me(b, t)) === 401);
          console.log(`${mode}: ${what} on A refused on B ${(performance.now() - answeredAt).toFixed(0)} ms after it answered`);
        };
        const out = await fetch(`${a.baseUrl}/api/v1/auths/signout`, bearer(token, { headers: { cookie: `token=${token}` } }));
        expect(out.headers.getSetCookie().find((c) => c.startsWith("token="))).toContain("Max-Age=0");
        await enforcedOnB("sign-out", out, token);
        await enforcedOnB("sign out everywhere", await fetch(`${a.baseUrl}/api/v1/auths/signout/everywhere`, { method: "POST", ...bearer(everywhere) }), everywhereOther);
        const change = postJson({ password: "pw-revocation-1", new_password: "pw-revocation-2" });
        await enforcedOnB("password change", await fetch(`${a.baseUrl}/api/v1/auths/update/password`, bearer(changer, change)), changerOther);
        await enforcedOnB("admin deletion", await fetch(`${a.baseUrl}/api/v1/users/${decodeJwt(victim).id as string}`, { method: "DELETE", ...bearer(admin) }), victim);
        expect(await statuses([a, b])).toEqual(Array(8).fill(401));
        expect(await me(a, token)).toBe(401);

        const revived = await startRedis({ port: redis.port });
        try {
          for (const s of [a, b]) await waitFor("store back", async () => (await fetch(`${s.baseUrl}/readyz`)).status === 200, 15_000, 100);
          expect(await statuses([a, b])).toEqual(Array(8).fill(401));
        } finally {
          await revived.stop();
        }
      } finally {
        await redis.stop();
      }
    });
  }
});
