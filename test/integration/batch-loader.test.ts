/**
 * Batched reads on a real Postgres: concurrent cold lookups of distinct users (and of their
 * model grants) share one checkout and one query, a batch is bounded, the request that asked
 * is billed its wait, and a failed checkout or query fails every waiter with the pool's error.
 * Checkouts are counted from the pool's own metrics.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StrictPool, type StrictPoolOptions } from "../../src/db/pool.ts";
import { migrate } from "../../src/db/migrate.ts";
import { UsersRepo } from "../../src/db/repos/users.ts";
import { ModelAccessRepo } from "../../src/db/repos/model-access.ts";
import { BatchLoader } from "../../src/db/batch-loader.ts";
import { DatabaseUnavailableError, PoolSaturatedError } from "../../src/db/errors.ts";
import { createRegistry } from "../../src/observability/registry.ts";
import { createDbMetrics } from "../../src/observability/db-metrics.ts";
import { newRequestScope, withRequestScope } from "../../src/observability/request-scope.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { sample } from "../helpers/metrics-text.ts";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { freePort } from "../harness/services.ts";

let url: string;
const pools: StrictPool[] = [];
const USERS = 40;
const ids = Array.from({ length: USERS }, (_, i) => `bl-${i}`);

function makePool(over: Partial<StrictPoolOptions> = {}) {
  const registry = createRegistry({ defaultMetrics: false });
  const pool = new StrictPool(
    { url, max: 1, timeoutMs: 5000, maxWaiters: 1000, leakThresholdMs: 60_000, prepare: true, ...over },
    createDbMetrics(registry),
    captureLogger().log,
  );
  pools.push(pool);
  const metric = async (name: string, op: string) => sample(await registry.metrics(), name, { op }) ?? 0;
  return {
    pool,
    checkouts: (op: string) => metric("gatehouse_db_checkout_wait_seconds_count", op),
    batchedKeys: (op: string) => metric("gatehouse_db_batch_keys_sum", op),
  };
}

/** Holds the pool's only connection until `release()`, so every lookup meanwhile queues. */
function holdPool(pool: StrictPool) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let held!: () => void;
  const isHeld = new Promise<void>((r) => (held = r));
  const done = pool.run("test.hold", async () => {
    held();
    await released;
  });
  return { isHeld, release: async () => (release(), await done) };
}

beforeAll(async () => {
  url = await freshDatabaseUrl("batch_loader");
  const { pool } = makePool({ max: 2 });
  await migrate(pool);
  const users = new UsersRepo(pool);
  for (const id of ids) await users.insert({ id, email: `${id}@example.com`, name: id, role: id === "bl-1" ? "pending" : "user", passwordHash: "x" });
  const access = new ModelAccessRepo(pool);
  await access.grant("bl-0", "m-direct", null);
  await access.grant("*", "m-everyone", null);
  await pool.run("test.group", async (c) => {
    await c`insert into "group" (id, user_id, name, description, created_at, updated_at) values ('g-1', 'bl-0', 'team', '', 0, 0)`;
    await c`insert into group_member (id, group_id, user_id, created_at, updated_at) values ('gm-1', 'g-1', 'bl-2', 0, 0)`;
  });
  await access.grant("group:team", "m-team", null);
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close(1)));
});

describe("batched reads", () => {
  test("40 concurrent cold lookups of distinct users (and 2 unknown ids) while the pool is busy: one checkout, each gets its own row", async () => {
    const { pool, checkouts, batchedKeys } = makePool();
    const users = new UsersRepo(pool);
    const hold = holdPool(pool);
    await hold.isHeld;
    const asked = [...ids, "bl-gone", "bl-never"];
    const pending = Promise.all(asked.map((id) => users.byId(id)));
    await hold.release();
    const found = await pending;
    expect(found.map((u) => u?.id ?? null)).toEqual([...ids, null, null]);
    // The row is the right user's, role included: a pending user stays pending in a batch.
    expect(found[1]).toMatchObject({ id: "bl-1", role: "pending", email: "bl-1@example.com" });
    expect(await checkouts("user.by_id")).toBe(1);
    expect(await batchedKeys("user.by_id")).toBe(asked.length);
  });

  test("model grants of 40 users in one checkout: direct, to everyone and through a group, none mixed up", async () => {
    const { pool, checkouts } = makePool();
    const access = new ModelAccessRepo(pool);
    const hold = holdPool(pool);
    await hold.isHeld;
    const pending = Promise.all(ids.map((id) => access.modelsFor(id)));
    await hold.release();
    const grants = (await pending).map((g) => [...g].sort());
    expect(grants[0]).toEqual(["m-direct", "m-everyone"]);
    expect(grants[2]).toEqual(["m-everyone", "m-team"]);
    for (const g of grants.slice(3)) expect(g).toEqual(["m-everyone"]);
    expect(await checkouts("model_access.for_user")).toBe(1);
  });

  test("a read asked for after a write sees the write (the query runs after the ask)", async () => {
    const { pool } = makePool();
    const users = new UsersRepo(pool);
    const hold = holdPool(pool);
    await hold.isHeld;
    const before = users.byId("bl-5");
    await hold.release();
    expect((await before)?.role).toBe("user");
    await users.updateRole("bl-5", "admin");
    try {
      expect((await users.byId("bl-5"))?.role).toBe("admin");
    } finally {
      await users.updateRole("bl-5", "user");
    }
  });

  test("a batch is bounded: 10 keys with a limit of 4 take 3 checkouts of 4, 4 and 2", async () => {
    const { pool, checkouts, batchedKeys } = makePool();
    const sizes: number[] = [];
    const loader = new BatchLoader<string>(pool, "test.bounded", async (c, keys) => {
      sizes.push(keys.length);
      const rows = await c<{ k: string }[]>`select unnest(${keys}::text[]) as k`;
      return new Map(rows.map((r) => [r.k, r.k.toUpperCase()]));
    }, { maxBatch: 4 });
    const hold = holdPool(pool);
    await hold.isHeld;
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    const pending = Promise.all(keys.map((k) => loader.load(k)));
    await hold.release();
    expect(await pending).toEqual(keys.map((k) => k.toUpperCase()));
    expect(sizes).toEqual([4, 4, 2]);
    expect(await checkouts("test.bounded")).toBe(3);
    expect(await batchedKeys("test.bounded")).toBe(10);
  });

  test("a lone key is read at once; keys asked for while its batch is out go together in the next one", async () => {
    const { pool, checkouts } = makePool({ max: 3 });
    const sizes: number[] = [];
    let unblock!: () => void;
    const blocked = new Promise<void>((r) => (unblock = r));
    let started!: () => void;
    const firstStarted = new Promise<void>((r) => (started = r));
    const loader = new BatchLoader<string>(pool, "test.in_flight", async (c, keys) => {
      sizes.push(keys.length);
      if (sizes.length === 1) {
        started();
        await blocked;
      }
      const rows = await c<{ k: string }[]>`select unnest(${keys}::text[]) as k`;
      return new Map(rows.map((r) => [r.k, r.k]));
    });
    const first = loader.load("k0");
    await firstStarted;
    // Free connections are there (max 3), but one batch is out: these wait for it, not for a connection.
    const rest = Promise.all(Array.from({ length: 9 }, (_, i) => loader.load(`k${i + 1}`)));
    await Bun.sleep(100);
    expect(loader.waiting).toBe(9);
    expect(sizes).toEqual([1]);
    unblock();
    expect(await first).toBe("k0");
    expect(await rest).toEqual(Array.from({ length: 9 }, (_, i) => `k${i + 1}`));
    expect(sizes).toEqual([1, 9]);
    expect(await checkouts("test.in_flight")).toBe(2);
  });

  test("each asking request is billed one checkout and its own wait", async () => {
    const { pool } = makePool();
    const users = new UsersRepo(pool);
    const hold = holdPool(pool);
    await hold.isHeld;
    const scopes = [newRequestScope(), newRequestScope(), newRequestScope()];
    const pending = Promise.all(scopes.map((s, i) => withRequestScope(s, () => users.byId(ids[i + 10]!))));
    await Bun.sleep(30);
    await hold.release();
    await pending;
    for (const s of scopes) {
      expect(s.checkouts).toBe(1);
      expect(s.waitSeconds).toBeGreaterThan(0.02);
    }
  });

  test("a query that fails fails every waiter of its batch, and the next batch works", async () => {
    const { pool } = makePool();
    let broken = true;
    const loader = new BatchLoader<number>(pool, "test.failing", async (c, keys) => {
      const rows = broken ? await c`select * from no_such_table` : await c<{ k: string }[]>`select unnest(${keys}::text[]) as k`;
      return new Map(rows.map((r) => [String(r["k"]), 1]));
    });
    const hold = holdPool(pool);
    await hold.isHeld;
    const failed = Promise.all(["a", "b", "c"].map((k) => loader.load(k).then(() => "ok", (e: { code?: string }) => e.code)));
    await hold.release();
    // Postgres's own error (undefined_table), to every waiter.
    expect(await failed).toEqual(["42P01", "42P01", "42P01"]);
    broken = false;
    expect(await Promise.all(["a", "b"].map((k) => loader.load(k)))).toEqual([1, 1]);
  });

  test("a refused checkout (waiter cap) fails every waiter with 503 ERR_DB_POOL_SATURATED", async () => {
    const { pool } = makePool({ maxWaiters: 0 });
    const users = new UsersRepo(pool);
    const hold = holdPool(pool);
    await hold.isHeld;
    const errors = await Promise.all(["bl-3", "bl-4", "bl-5"].map((id) => users.byId(id).catch((e: unknown) => e)));
    await hold.release();
    for (const e of errors) {
      expect(e).toBeInstanceOf(PoolSaturatedError);
      expect((e as PoolSaturatedError).status).toBe(503);
    }
    // The loader is not stuck after a refusal.
    expect((await users.byId("bl-3"))?.id).toBe("bl-3");
  });

  test("with the database down every waiter gets 503 ERR_DB_UNAVAILABLE, each with the error, none hangs", async () => {
    const downUrl = `postgres://nobody@127.0.0.1:${await freePort()}/none`;
    const down = new StrictPool(
      { url: downUrl, max: 1, timeoutMs: 1000, maxWaiters: 1000, leakThresholdMs: 60_000, prepare: true },
      createDbMetrics(createRegistry({ defaultMetrics: false })),
      captureLogger().log,
    );
    pools.push(down);
    const users = new UsersRepo(down);
    const access = new ModelAccessRepo(down);
    const errors = await Promise.all([
      ...["x1", "x2", "x3"].map((id) => users.byId(id).catch((e: unknown) => e)),
      ...["x1", "x2"].map((id) => access.modelsFor(id).catch((e: unknown) => e)),
    ]);
    for (const e of errors) {
      expect(e).toBeInstanceOf(DatabaseUnavailableError);
      expect((e as DatabaseUnavailableError).code).toBe("ERR_DB_UNAVAILABLE");
    }
    // The circuit is open now: refused at once, still per waiter.
    const again = await Promise.all(["x4", "x5"].map((id) => users.byId(id).catch((e: unknown) => e)));
    for (const e of again) expect(e).toBeInstanceOf(DatabaseUnavailableError);
  });
});
