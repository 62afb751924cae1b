/**
 * SIGKILL of one of two instances mid-stream: the other keeps serving untouched, and the
 * killed instance's streams are not lost for billing — their usage rows, written `started`
 * when the streams began, are closed as `interrupted` by the survivor's reaper.
 */
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startFakeLlm, type FakeLlm } from "../../bench/fake-llm.ts";
import { waitFor } from "../helpers/wait.ts";
import { expectNoServerErrors, Load, me, report, signUp, summarize } from "./kit.ts";

const HEARTBEAT_MS = 300;
/** 3 missed beats, plus a reaper pass, plus slack for a loaded machine. */
const REAP_BOUND_MS = 5000;

const procs: ServerProcess[] = [];
const fakes: FakeLlm[] = [];
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  for (const f of fakes) await f.stop();
});

describe("SIGKILL of one of two instances", () => {
  test("the survivor is untouched; the dead one's streams end up `interrupted`, none lost", async () => {
    const STREAMS = 8;
    const fake = startFakeLlm({ tokens: 20, intervalMs: 250, firstTokenMs: 100 });
    fakes.push(fake);
    const dbUrl = await freshDatabaseUrl("fault_crash");
    const env = {
      DATABASE_URL: dbUrl,
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("fault-crash"),
      WEBUI_SECRET_KEY: "fault-crash-secret",
      ENABLE_SIGNUP: "true",
      DEFAULT_USER_ROLE: "user",
      OPENAI_API_BASE_URL: fake.url,
      GATEHOUSE_INSTANCE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      GATEHOUSE_LOG_LEVEL: "warn",
    };
    const a = await startServerProcess(env);
    procs.push(a);
    const b = await startServerProcess(env);
    procs.push(b);
    const token = await signUp(a, "crash@example.com");
    const grant = await fetch(`${a.baseUrl}/api/v1/gateway/model-access`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "*", model_id: "fake-gpt" }),
    });
    expect(grant.status).toBe(200);
    expect((await me(b, token)).status).toBe(200);

    const chat = (server: ServerProcess, i: number, signal?: AbortSignal, fakeTokens = 20) => fetch(`${server.baseUrl}/api/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "fake-gpt", stream: true, messages: [{ role: "user", content: `crash ${i}` }], fake: { tokens: fakeTokens } }),
      signal,
    });
    // Streams on A, which dies mid-answer (the clients see their connections cut).
    const onA = Array.from({ length: STREAMS }, (_, i) => chat(a, i).then((r) => r.text()).then(() => "whole", () => "cut"));
    // Load on B throughout: GETs and streams of its own.
    const gets = new Load((signal) => me(b, token, signal), 3, { pauseMs: 10 });
    const bStreams = new Load((signal, i) => chat(b, 100 + i, signal, 4), 2, { maxRequests: 4 });
    await waitFor("A's streams under way", () => fake.stats().active >= STREAMS, 5000);
    await Bun.sleep(300);
    a.kill("SIGKILL");
    const killedAt = performance.now();
    expect(await Promise.all(onA)).toEqual(Array(STREAMS).fill("cut"));

    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      // The item 5: rows of streams that never ended were lost (written only at the end).
      const reapedMs = await waitFor("A's usage rows closed as interrupted", async () => {
        const [r] = await sql<{ n: string }[]>`select count(*) as n from gatehouse_usage where outcome = 'interrupted'`;
        return Number(r!.n) >= STREAMS && performance.now() - killedAt;
      }, REAP_BOUND_MS, 50).catch(async (e: Error) => {
        const rows = await sql<{ outcome: string; n: string }[]>`select outcome, count(*) as n from gatehouse_usage group by outcome`;
        throw new Error(`${e.message}; rows by outcome: ${JSON.stringify(rows)}`);
      });
      const [gs, ss] = await Promise.all([gets.stop(), bStreams.finished()]);
      report("SIGKILL of instance A with 8 live streams: GETs on B", summarize(gs));
      report("SIGKILL of instance A: streams on B", summarize(ss));
      console.log(`[fault] SIGKILL of instance A: its ${STREAMS} usage rows closed as interrupted ${Math.round(reapedMs)} ms after the kill`);
      expectNoServerErrors(gs);
      expectNoServerErrors(ss);
      expect(new Set(gs.map((s) => s.status))).toEqual(new Set([200]));
      expect(ss.map((s) => s.status)).toEqual([200, 200, 200, 200]);
      await waitFor("B's usage rows", async () => {
        const [r] = await sql<{ n: string }[]>`select count(*) as n from gatehouse_usage where outcome = 'completed'`;
        return Number(r!.n) === 4;
      }, 5000, 50);
      const rows = await sql<{ outcome: string; n: string }[]>`select outcome, count(*) as n from gatehouse_usage group by outcome`;
      expect(Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]))).toEqual({ interrupted: STREAMS, completed: 4 });
      const [dur] = await sql<{ min: number }[]>`select min(duration_ms) as min from gatehouse_usage where outcome = 'interrupted'`;
      expect(dur!.min).toBeGreaterThan(0);
    } finally {
      await sql.end();
    }
  });
});
