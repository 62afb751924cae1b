import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { StrictPool, type StrictPoolOptions } from "../../src/db/pool.ts";
import { CheckoutTimeoutError, DatabaseUnavailableError, PoolSaturatedError } from "../../src/db/errors.ts";
import { createRegistry } from "../../src/observability/registry.ts";
import { createDbMetrics } from "../../src/observability/db-metrics.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { sample } from "../helpers/metrics-text.ts";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { waitFor } from "../helpers/wait.ts";

let url: string;
const pools: StrictPool[] = [];

beforeAll(async () => {
  url = await freshDatabaseUrl("pool");
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close(1)));
});

function makePool(over: Partial<StrictPoolOptions> = {}) {
  const registry = createRegistry({ defaultMetrics: false });
  const metrics = createDbMetrics(registry);
  const logs = captureLogger();
  const pool = new StrictPool(
    { url, max: 2, timeoutMs: 2000, maxWaiters: 1000, leakThresholdMs: 60_000, prepare: true, ...over },
    metrics,
    logs.log,
  );
  pools.push(pool);
  return { pool, registry, logs };
}

/** A promise with its resolver, to hold a checkout open exactly as long as a test wants. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe("strict pool against a real Postgres", () => {
  test("a pool of 2 serves 50 concurrent runs, never more than 2 at once", async () => {
    const { pool, registry } = makePool({ max: 2 });
    let inFlight = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        pool.run("test.concurrent", async (c) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          const [row] = await c<{ n: number }[]>`select ${i}::int as n, pg_sleep(0.005)`;
          inFlight--;
          return row!.n;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(peak).toBe(2);
    const text = await registry.metrics();
    expect(sample(text, "gatehouse_db_checkout_wait_seconds_count", { op: "test.concurrent" })).toBe(50);
    expect(sample(text, "gatehouse_db_checkout_hold_seconds_count", { op: "test.concurrent" })).toBe(50);
    expect(sample(text, "gatehouse_db_pool_connections", { state: "active" })).toBe(0);
    expect(sample(text, "gatehouse_db_pool_waiting")).toBe(0);
  });

  test("a checkout held past the timeout makes the next waiter fail with the typed error", async () => {
    const { pool, registry } = makePool({ max: 1, timeoutMs: 300 });
    const held = gate();
    const holder = pool.run("test.hold", async (c) => {
      await c`select 1`;
      await held.p;
    });
    await Bun.sleep(20);
    const started = performance.now();
    const err = await pool.run("test.waiter", async () => "never").catch((e: unknown) => e);
    const waited = performance.now() - started;
    held.open();
    await holder;
    expect(err).toBeInstanceOf(CheckoutTimeoutError);
    expect((err as CheckoutTimeoutError).code).toBe("ERR_DB_CHECKOUT_TIMEOUT");
    expect((err as CheckoutTimeoutError).status).toBe(503);
    // It waited for the timeout, and did not hang on until the holder let go.
    expect(waited).toBeGreaterThanOrEqual(295);
    expect((err as CheckoutTimeoutError).waitedMs).toBeGreaterThanOrEqual(295);
    expect(sample(await registry.metrics(), "gatehouse_db_checkout_timeouts_total")).toBe(1);
    // The pool is healthy afterwards.
    expect(await pool.run("test.after", async (c) => (await c`select 2 as v`)[0]!.v)).toBe(2);
  });

  test("the waiter cap refuses at once, before any holder lets go", async () => {
    const { pool, registry } = makePool({ max: 1, maxWaiters: 1, timeoutMs: 5000 });
    const held = gate();
    const order: string[] = [];
    const holder = pool.run("test.hold", async () => {
      await held.p;
      order.push("holder released");
    });
    const queued = pool.run("test.queued", async () => order.push("queued ran"));
    const refused = await pool.run("test.refused", async () => "never").catch((e: unknown) => e);
    order.push("refused");
    expect(refused).toBeInstanceOf(PoolSaturatedError);
    expect((refused as PoolSaturatedError).code).toBe("ERR_DB_POOL_SATURATED");
    expect(pool.stats()).toMatchObject({ active: 1, waiting: 1 });
    held.open();
    await Promise.all([holder, queued]);
    expect(order).toEqual(["refused", "holder released", "queued ran"]);
    expect(sample(await registry.metrics(), "gatehouse_db_checkout_rejected_total")).toBe(1);
  });

  test("a checkout held past the leak threshold is reported with its op", async () => {
    const { pool, registry, logs } = makePool({ leakThresholdMs: 50 });
    await pool.run("test.leaky", async (c) => {
      await c`select pg_sleep(0.2)`;
    });
    await pool.run("test.quick", async (c) => void (await c`select 1`));
    expect(sample(await registry.metrics(), "gatehouse_db_leaks_total")).toBe(1);
    const leak = logs.lines().find((l) => l["msg"] === "database connection held past the leak threshold");
    expect(leak).toMatchObject({ op: "test.leaky", thresholdMs: 50, level: 40 });
  });

  test("after pg_terminate_backend on its connections, the next query still succeeds", async () => {
    const { pool } = makePool({ max: 3 });
    const pids = await Promise.all([1, 2, 3].map(() =>
      pool.run("test.pid", async (c) => {
        const [r] = await c<{ pid: number }[]>`select pg_backend_pid() as pid, pg_sleep(0.02)`;
        return r!.pid;
      })));
    expect(new Set(pids).size).toBeGreaterThan(0);
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const killed = await admin<{ ok: boolean }[]>`
        select pg_terminate_backend(pid) as ok from pg_stat_activity
        where application_name = 'gatehouse' and datname = current_database() and pid <> pg_backend_pid()`;
      expect(killed.length).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < 100; i++) {
        const [left] = await admin<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity where application_name = 'gatehouse' and datname = current_database()`;
        if (left!.n === 0) break;
        await Bun.sleep(20);
      }
    } finally {
      await admin.end();
    }
    // The server closed them; wait until the client has seen every close too (a connection
    // handed out in the instant between the two fails its query with the typed 503).
    await waitFor("the client to see the closes", () => pool.stats().idle === 0, 1000);
    expect(pool.stats().idle).toBe(0);
    const values = await Promise.all([1, 2, 3, 4].map((i) => pool.run("test.after-kill", async (c) => (await c<{ v: number }[]>`select ${i}::int as v`)[0]!.v)));
    expect(values).toEqual([1, 2, 3, 4]);
  });

  test("an unreachable database is a typed 503 error, not a hang", async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const pool = new StrictPool(
      { url: "postgres://postgres@127.0.0.1:1/none", max: 1, timeoutMs: 1500, maxWaiters: 10, leakThresholdMs: 1000, prepare: true },
      createDbMetrics(registry),
      captureLogger().log,
    );
    pools.push(pool);
    const err = await pool.run("test.down", async () => 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect((err as DatabaseUnavailableError).status).toBe(503);
    expect(pool.stats().active).toBe(0);
  });
});

test("a checkout that times out still counts its wait for the request (Server-Timing)", async () => {
  const { newRequestScope, withRequestScope } = await import("../../src/observability/request-scope.ts");
  const registry = createRegistry({ defaultMetrics: false });
  const pool = new StrictPool({ url, max: 1, timeoutMs: 200, maxWaiters: 10, leakThresholdMs: 60_000, prepare: true }, createDbMetrics(registry), captureLogger().log);
  pools.push(pool);
  let release!: () => void;
  const held = pool.run("test.hold", () => new Promise<void>((r) => (release = r)));
  await Bun.sleep(20);
  const scope = newRequestScope();
  const err = await withRequestScope(scope, () => pool.run("test.wait", async () => 1)).catch((e: unknown) => e);
  release();
  await held;
  expect(err).toBeInstanceOf(CheckoutTimeoutError);
  expect(scope.checkouts).toBe(0);
  expect(scope.waitSeconds).toBeGreaterThanOrEqual(0.19);
});

test("open(n) opens n backends before any checkout; checkouts then reuse them and no more are opened", async () => {
  // A database of its own: the other tests' pools stay connected to theirs.
  const own = await freshDatabaseUrl("pool_open");
  const registry = createRegistry({ defaultMetrics: false });
  const pool = new StrictPool({ url: own, max: 5, timeoutMs: 2000, maxWaiters: 10, leakThresholdMs: 60_000, prepare: true }, createDbMetrics(registry), captureLogger().log);
  pools.push(pool);
  const admin = postgres(own, { max: 1, onnotice: () => {} });
  const backends = async () => {
    const rows = await admin<{ pid: number }[]>`
      select pid from pg_stat_activity where application_name = 'gatehouse' and datname = current_database()`;
    return new Set(rows.map((r) => r.pid));
  };
  try {
    expect((await backends()).size).toBe(0);
    await pool.open(3);
    const opened = await backends();
    expect(opened.size).toBe(3);
    expect(pool.stats()).toMatchObject({ active: 0, peak: 0 });
    // Opening is not a checkout.
    expect(sample(await registry.metrics(), "gatehouse_db_checkout_wait_seconds_count", { op: "test.after_open" })).toBeUndefined();
    const pids = await Promise.all([1, 2, 3].map(() =>
      pool.run("test.after_open", async (c) => (await c<{ pid: number }[]>`select pg_backend_pid() as pid, pg_sleep(0.02)`)[0]!.pid)));
    expect(new Set(pids)).toEqual(opened);
    expect(await backends()).toEqual(opened);
  } finally {
    await admin.end();
  }
});
