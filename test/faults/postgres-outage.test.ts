/**
 * Postgres stopped (immediate mode) under load and started again: sign-ins get a fast 503 +
 * Retry-After while it is down and succeed within moments of its return; warm authenticated
 * GETs never fail, even though the user cache's TTL (1 s here) runs out several times during
 * the outage. A dedicated cluster, so stopping it disturbs no other test.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { createDatabase, startPostgres, type PostgresHandle } from "../harness/services.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { sample } from "../helpers/metrics-text.ts";
import { expectNoServerErrors, Load, me, report, signUp, summarize, window } from "./kit.ts";

/** The outage (the target is 20 s; shortened to keep the suite fast, still 5× the cache TTL). */
const OUTAGE_MS = 5000;
const AFTER_MS = 2500;
/** Longest a sign-in may take while the database is down (the checkout itself is refused in < 100 ms). */
const SIGNIN_BOUND_MS = 1000;
/** Longest a warm GET may take at any time. */
const WARM_BOUND_MS = 500;
/** Sign-ins must succeed again within this after the database is back. */
const RECOVERY_BOUND_MS = 2000;

let pg: PostgresHandle;
let gh: ServerProcess;

beforeAll(async () => {
  pg = await startPostgres({ maxConnections: 50 });
  gh = await startServerProcess({
    DATABASE_URL: await createDatabase(pg.url, "fault_pg"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("fault-pg"),
    WEBUI_SECRET_KEY: "fault-pg-secret",
    ENABLE_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
    DATABASE_POOL_TIMEOUT: "10",
    GATEHOUSE_USER_CACHE_TTL_MS: "1000",
    GATEHOUSE_SIGNIN_RATE_LIMIT_PER_EMAIL: "100000",
    GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "100000",
    GATEHOUSE_LOG_LEVEL: "warn",
  });
});

afterAll(async () => {
  if (gh?.proc.exitCode !== null) console.log(`Gatehouse exited during the test (code ${gh?.proc.exitCode}):\n${gh?.output().slice(-3000)}`);
  gh?.kill("SIGKILL");
  await pg?.stop();
});

describe("Postgres stop/restart under load", () => {
  test("sign-ins: fast 503 while down, back within moments; warm GETs: no failure", async () => {
    const users = ["pg-a", "pg-b", "pg-c", "pg-d"].map((n) => `${n}@example.com`);
    const tokens: string[] = [];
    for (const u of users) tokens.push(await signUp(gh, u));
    for (const t of tokens) expect((await me(gh, t)).status).toBe(200);

    const gets = new Load((signal, i) => me(gh, tokens[i % tokens.length]!, signal), 4, { pauseMs: 5 });
    const signIns = new Load(
      (signal, i) => fetch(`${gh.baseUrl}/api/v1/auths/signin`, { ...postJson({ email: users[i % users.length], password: "pw-fault" }), signal }),
      2,
      { pauseMs: 20 },
    );
    await Bun.sleep(1000);
    const downAt = gets.now();
    await pg.pause();
    const stoppedAt = gets.now();
    await Bun.sleep(OUTAGE_MS);
    const during = await (await fetch(`${gh.baseUrl}/metrics`)).text();
    const resumingAt = gets.now();
    await pg.resume();
    const backAt = gets.now();
    await Bun.sleep(AFTER_MS);
    const [getSamples, signInSamples] = await Promise.all([gets.stop(), signIns.stop()]);

    const g = summarize(getSamples, backAt);
    const s = summarize(signInSamples, backAt);
    report(`postgres stop/start, warm GETs (4 workers, ${OUTAGE_MS} ms outage, user cache TTL 1 s)`, g);
    report("  … warm GETs before the outage", summarize(window(getSamples, 0, downAt)));
    report("  … warm GETs during the outage", summarize(window(getSamples, stoppedAt, resumingAt)));
    report(`postgres stop/start, sign-ins (2 workers, ${OUTAGE_MS} ms outage)`, s);

    expectNoServerErrors(signInSamples);
    // The failure 3: sign-ins hung until DATABASE_POOL_TIMEOUT once postgres.js backed off its reconnects.
    const outageSignIns = window(signInSamples, downAt, backAt);
    expect(outageSignIns.length).toBeGreaterThan(0);
    expect(outageSignIns.filter((x) => x.ms >= SIGNIN_BOUND_MS).map((x) => Math.round(x.ms))).toEqual([]);
    expect(new Set(window(signInSamples, stoppedAt, resumingAt).map((x) => x.status))).toEqual(new Set([503]));
    expect(sample(during, "gatehouse_circuit_state", { dependency: "database" })).toBe(1);
    // Bounded reconnects: sign-ins work again soon after the database is back.
    expect(s.recoveryMs!).toBeLessThan(RECOVERY_BOUND_MS);
    // Including the ones cut off as it went down and the probe after it came back.
    expect(s.longestMs).toBeLessThan(3000);
    expect(window(signInSamples, backAt + RECOVERY_BOUND_MS).every((x) => x.status === 200)).toBe(true);

    // The failure 4: warm GETs needed the database once the cache entry expired.
    expect(g.statuses).toEqual({ 200: getSamples.length });
    expect(g.longestMs).toBeLessThan(WARM_BOUND_MS);
  });
});
