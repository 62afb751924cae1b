/**
 * Drains: SIGTERM turns readiness off first and keeps serving for the drain delay (default
 * 5 s), then stops accepting while live streams run to their end; every usage row is written
 * and none is left `started`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startFakeLlm, type FakeLlm } from "../../bench/fake-llm.ts";
import { expectNoServerErrors, Load, report, signUp, summarize } from "./kit.ts";

const procs: ServerProcess[] = [];
const fakes: FakeLlm[] = [];
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  for (const f of fakes) await f.stop();
});

describe("SIGTERM", () => {
  test("default drain delay: /readyz says 503 for a while before connections are refused, then exit 0", async () => {
    const gh = await startServerProcess({
      DATABASE_URL: await freshDatabaseUrl("fault_drain_default"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("fault-drain"),
      WEBUI_SECRET_KEY: "fault-drain-secret",
      GATEHOUSE_SHUTDOWN_DRAIN_DELAY_MS: "",
      GATEHOUSE_LOG_LEVEL: "warn",
    });
    procs.push(gh);
    expect((await fetch(`${gh.baseUrl}/readyz`)).status).toBe(200);
    const termAt = performance.now();
    gh.kill("SIGTERM");
    // What a load balancer's readiness probe sees, every 100 ms for 1.5 s.
    const seen: Array<number | "refused"> = [];
    for (let i = 0; i < 15; i++) {
      await Bun.sleep(100);
      seen.push(await fetch(`${gh.baseUrl}/readyz`).then((r) => r.status, () => "refused" as const));
    }
    console.log(`[fault] SIGTERM, default drain delay: readiness probes over 1.5 s: ${JSON.stringify(seen)}`);
    // The failure 5: readiness off and the listener closed in the same instant.
    expect(seen.every((s) => s === 503)).toBe(true);
    // Ordinary requests are still served during the delay.
    expect((await fetch(`${gh.baseUrl}/livez`)).status).toBe(200);
    expect(await gh.exited).toBe(0);
    const tookMs = performance.now() - termAt;
    console.log(`[fault] SIGTERM, default drain delay: exit 0 after ${Math.round(tookMs)} ms`);
    expect(tookMs).toBeGreaterThanOrEqual(4500);
  });

  test("live streams finish, new requests are served during the delay, every usage row written", async () => {
    const STREAMS = 20;
    const fake = startFakeLlm({ tokens: 10, intervalMs: 200, firstTokenMs: 100 });
    fakes.push(fake);
    const dbUrl = await freshDatabaseUrl("fault_drain_streams");
    const gh = await startServerProcess({
      DATABASE_URL: dbUrl,
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("fault-drain-streams"),
      WEBUI_SECRET_KEY: "fault-drain-secret",
      ENABLE_SIGNUP: "true",
      DEFAULT_USER_ROLE: "user",
      OPENAI_API_BASE_URL: fake.url,
      GATEHOUSE_SHUTDOWN_DRAIN_DELAY_MS: "500",
      GATEHOUSE_SHUTDOWN_TIMEOUT_MS: "15000",
      GATEHOUSE_LOG_LEVEL: "warn",
    });
    procs.push(gh);
    const token = await signUp(gh, "drain@example.com");
    const grant = await fetch(`${gh.baseUrl}/api/v1/gateway/model-access`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "*", model_id: "fake-gpt" }),
    });
    expect(grant.status).toBe(200);

    const load = new Load(
      (signal, i) => fetch(`${gh.baseUrl}/api/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "fake-gpt", stream: true, messages: [{ role: "user", content: `drain ${i}` }] }),
        signal,
      }),
      STREAMS,
      { maxRequests: STREAMS },
    );
    await Bun.sleep(600);
    gh.kill("SIGTERM");
    await Bun.sleep(100);
    expect((await fetch(`${gh.baseUrl}/readyz`)).status).toBe(503);
    expect((await fetch(`${gh.baseUrl}/livez`)).status).toBe(200);
    const samples = await load.stop();
    expect(await gh.exited).toBe(0);
    report(`SIGTERM with ${STREAMS} live streams (drain delay 500 ms)`, summarize(samples));
    expectNoServerErrors(samples);
    expect(samples.map((s) => s.status)).toEqual(Array(STREAMS).fill(200));
    expect(fake.stats().completed).toBe(STREAMS);

    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ outcome: string; n: string }[]>`select outcome, count(*) as n from gatehouse_usage group by outcome`;
      expect(Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]))).toEqual({ completed: STREAMS });
    } finally {
      await sql.end();
    }
  });
});
