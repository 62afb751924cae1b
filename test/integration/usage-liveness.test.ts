/**
 * Usage rows across a call's life on real Postgres: `started` then completed by the same id,
 * a late `started` never overwriting an end, and the reaper closing only dead instances' rows.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StrictPool } from "../../src/db/pool.ts";
import { migrate } from "../../src/db/migrate.ts";
import { UsageRepo, type UsageRecord, type UsageOutcome } from "../../src/db/repos/usage.ts";
import { UsageReaper } from "../../src/gateway/usage-reaper.ts";
import { createRegistry } from "../../src/observability/registry.ts";
import { createDbMetrics } from "../../src/observability/db-metrics.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { freshDatabaseUrl } from "../helpers/real-services.ts";

let pool: StrictPool;
beforeAll(async () => {
  pool = new StrictPool(
    { url: await freshDatabaseUrl("usage_liveness"), max: 2, timeoutMs: 5000, maxWaiters: 100, leakThresholdMs: 60_000, prepare: true },
    createDbMetrics(createRegistry({ defaultMetrics: false })),
    captureLogger().log,
  );
  await migrate(pool);
});
afterAll(() => pool.close(1));

const row = (id: string, outcome: UsageOutcome, tokens: number | null = null): UsageRecord => ({
  id, user_id: "ursula", model: "m", upstream: 0, stream: true, prompt_tokens: tokens, completion_tokens: tokens,
  started_at: Math.floor(Date.now() / 1000) - 2, duration_ms: outcome === "started" ? 0 : 1500, first_byte_ms: null, upstream_status: 200, outcome,
});
const outcomes = async () => Object.fromEntries(
  (await pool.run("test.read", (c) => c<{ id: string; outcome: string }[]>`select id, outcome from gatehouse_usage where user_id = 'ursula'`)).map((r) => [r.id, r.outcome]),
);

describe("usage rows that survive a crash", () => {
  test("started, then completed by the same id; a late started does not undo the end", async () => {
    const repo = new UsageRepo(pool, "instance-live");
    await repo.insertMany([row("call-1", "started")]);
    expect(await outcomes()).toEqual({ "call-1": "started" });
    await repo.insertMany([row("call-1", "completed", 9)]);
    await repo.insertMany([row("call-1", "started")]);
    expect(await outcomes()).toEqual({ "call-1": "completed" });
    const [r] = await repo.recent("ursula");
    expect(r).toMatchObject({ id: "call-1", completion_tokens: 9, duration_ms: 1500 });
  });

  test("the reaper closes a dead instance's started rows as interrupted, and nobody else's", async () => {
    const live = new UsageReaper(pool, "instance-live", 60_000, captureLogger().log);
    const dead = new UsageReaper(pool, "instance-dead", 60_000, captureLogger().log);
    await live.tick();
    await dead.tick();
    await new UsageRepo(pool, "instance-live").insertMany([row("live-1", "started")]);
    await new UsageRepo(pool, "instance-dead").insertMany([row("dead-1", "started"), row("dead-2", "started")]);
    expect(await live.reap()).toBe(0);
    // The dead instance's last beat, long ago.
    await pool.run("test.age", (c) => c`update gatehouse_instances set heartbeat_at_ms = heartbeat_at_ms - 600000 where instance_id = 'instance-dead'`);
    expect(await live.reap()).toBe(2);
    expect(await outcomes()).toMatchObject({ "live-1": "started", "dead-1": "interrupted", "dead-2": "interrupted" });
    const [d] = await pool.run("test.read", (c) => c<{ duration_ms: number }[]>`select duration_ms from gatehouse_usage where id = 'dead-1'`);
    expect(d!.duration_ms).toBeGreaterThan(0);
    // An instance wrongly taken for dead still completes its rows.
    await new UsageRepo(pool, "instance-dead").insertMany([row("dead-1", "completed", 4)]);
    expect(await outcomes()).toMatchObject({ "dead-1": "completed", "dead-2": "interrupted" });
    // A graceful stop removes the entry; rows it left started are then reaped too.
    await live.stop();
    expect(await dead.reap()).toBe(1);
    expect(await outcomes()).toMatchObject({ "live-1": "interrupted" });
  });
});
