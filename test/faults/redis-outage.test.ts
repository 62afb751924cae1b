/**
 * Redis SIGKILLed under load, then restarted empty on the same port, in both failure modes.
 * Once the store's circuit is open (it notices within moments), nothing waits on Redis:
 * closed mode answers 503 + Retry-After at once, open mode answers from the replica at
 * normal speed. After the restart the first requests close the circuit again.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startRedis, type RedisHandle } from "../harness/services.ts";
import { sample } from "../helpers/metrics-text.ts";
import { expectNoServerErrors, Load, me, report, signUp, summarize, window } from "./kit.ts";

/** Time the store gets to notice the outage (failed reconnects) before "no waiting" is asserted. */
const NOTICE_MS = 750;
/** Longest one request may take once the circuit is open (loopback; generous for a loaded machine). */
const OPEN_BOUND_MS = 250;
const OUTAGE_MS = 2000;
const AFTER_MS = 2000;
/** After the restart, requests must be back to 200 within this. */
const RECOVERY_BOUND_MS = 1500;

const procs: ServerProcess[] = [];
const redises: RedisHandle[] = [];
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  for (const r of redises) await r.stop();
});

describe("Redis SIGKILL and empty restart under load", () => {
  for (const mode of ["closed", "open"] as const) {
    test(`GATEHOUSE_REDIS_FAILURE_MODE=${mode}: no waits on a dead store, no 500, recovers`, async () => {
      const redis = await startRedis();
      redises.push(redis);
      const gh = await startServerProcess({
        DATABASE_URL: await freshDatabaseUrl(`fault_redis_${mode}`),
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: uniquePrefix("fault-redis"),
        GATEHOUSE_REDIS_FAILURE_MODE: mode,
        WEBUI_SECRET_KEY: "fault-redis-secret",
        ENABLE_SIGNUP: "true",
        DEFAULT_USER_ROLE: "user",
        GATEHOUSE_LOG_LEVEL: "warn",
      });
      procs.push(gh);
      const token = await signUp(gh, `redis-${mode}@example.com`);
      expect((await me(gh, token)).status).toBe(200);

      const load = new Load((signal) => me(gh, token, signal), 6, { pauseMs: 5 });
      await Bun.sleep(500);
      const killedAt = load.now();
      redis.kill("SIGKILL");
      await Bun.sleep(NOTICE_MS);
      const tripped = await (await fetch(`${gh.baseUrl}/metrics`)).text();
      await Bun.sleep(OUTAGE_MS - NOTICE_MS);
      const during = await (await fetch(`${gh.baseUrl}/metrics`)).text();
      const restarted = await startRedis({ port: redis.port });
      redises.push(restarted);
      const backAt = load.now();
      await Bun.sleep(AFTER_MS);
      const samples = await load.stop();

      const all = summarize(samples, backAt);
      const outage = window(samples, killedAt + NOTICE_MS, backAt);
      report(`redis SIGKILL + empty restart, mode ${mode} (6 workers, ${OUTAGE_MS} ms outage)`, all);
      report(`  … requests during the open circuit (from ${NOTICE_MS} ms after the kill)`, summarize(outage));

      expectNoServerErrors(samples);
      expect(outage.length).toBeGreaterThan(0);
      // The failure 2: every request held up to 1 s while Redis was down.
      expect(summarize(outage).longestMs).toBeLessThan(OPEN_BOUND_MS);
      const statuses = new Set(outage.map((s) => s.status));
      if (mode === "closed") expect([...statuses]).toEqual([503]);
      else expect([...statuses]).toEqual([200]);
      expect(sample(during, "gatehouse_circuit_state", { dependency: "store" })).toBe(1);
      // Server-side time of the requests answered while the circuit was open (the issue: < 10 ms).
      const route = { route: "/api/v1/auths/" };
      const count = (text: string, le?: string) => le === undefined
        ? sample(text, "gatehouse_http_request_duration_seconds_count", route)!
        : sample(text, "gatehouse_http_request_duration_seconds_bucket", { ...route, le })!;
      const served = count(during) - count(tripped);
      const under10ms = count(during, "0.01") - count(tripped, "0.01");
      console.log(`[fault]   … server-side: ${under10ms} of ${served} answered in < 10 ms while the circuit was open`);
      expect(served).toBeGreaterThan(0);
      expect(under10ms / served).toBeGreaterThanOrEqual(0.9);
      // Back to normal after the restart, without restarting Gatehouse.
      expect(all.recoveryMs!).toBeLessThan(RECOVERY_BOUND_MS);
      expect(window(samples, backAt + RECOVERY_BOUND_MS).every((s) => s.status === 200)).toBe(true);
      const after = await (await fetch(`${gh.baseUrl}/metrics`)).text();
      expect(sample(after, "gatehouse_circuit_state", { dependency: "store" })).toBe(0);
    });
  }
});
