/**
 * The user cache on real Postgres, with the repo wrapped to count queries and to fail on
 * demand (as during an outage): concurrent misses share one query, a failed refresh serves
 * the stale entry, an invalidation is never undone by a stale copy.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StrictPool } from "../../src/db/pool.ts";
import { migrate } from "../../src/db/migrate.ts";
import { UsersRepo } from "../../src/db/repos/users.ts";
import { UserCache } from "../../src/auth/user-cache.ts";
import { MemoryStore } from "../../src/kv/memory.ts";
import { DatabaseUnavailableError } from "../../src/db/errors.ts";
import { createRegistry } from "../../src/observability/registry.ts";
import { createDbMetrics } from "../../src/observability/db-metrics.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { waitFor } from "../helpers/wait.ts";

let pool: StrictPool;
let real: UsersRepo;
let queries = 0;
let down = false;
/** The real repo, counting `byId` calls and refusing them while `down`. */
let repo: UsersRepo;

beforeAll(async () => {
  pool = new StrictPool(
    { url: await freshDatabaseUrl("user_cache"), max: 2, timeoutMs: 5000, maxWaiters: 100, leakThresholdMs: 60_000, prepare: true },
    createDbMetrics(createRegistry({ defaultMetrics: false })),
    captureLogger().log,
  );
  await migrate(pool);
  real = new UsersRepo(pool);
  repo = Object.create(real) as UsersRepo;
  repo.byId = (id) => {
    queries++;
    return down ? Promise.reject(new DatabaseUnavailableError("user.by_id", new Error("down"))) : real.byId(id);
  };
  for (const id of ["u-1", "u-2", "u-3"]) await real.insert({ id, email: `${id}@example.com`, name: id, role: "user", passwordHash: "x" });
});
afterAll(() => pool.close(1));

describe("UserCache", () => {
  test("concurrent misses for one user make one query", async () => {
    const cache = new UserCache(repo, new MemoryStore({ prefix: "uc" }), { ttlMs: 60_000 });
    queries = 0;
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.get("u-1")));
    expect(all.every((u) => u?.id === "u-1")).toBe(true);
    expect(queries).toBe(1);
  });

  test("an expired entry is served stale while the database fails, and refreshed once it answers", async () => {
    const cache = new UserCache(repo, new MemoryStore({ prefix: "uc" }), { ttlMs: 100, maxStaleMs: 60_000 });
    expect((await cache.get("u-2"))?.id).toBe("u-2");
    await Bun.sleep(150);
    down = true;
    try {
      expect((await cache.get("u-2"))?.id).toBe("u-2");
      // After a failed refresh the warm path answers without I/O.
      expect(cache.peek("u-2")?.id).toBe("u-2");
      // Never cached, so nothing to fall back on.
      await expect(cache.get("u-3")).rejects.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      down = false;
    }
    queries = 0;
    await waitFor("a background refresh", () => {
      cache.peek("u-2");
      return queries > 0;
    }, 3000);
  });

  test("an invalidation drops the entry outright: no stale copy is served after it", async () => {
    const cache = new UserCache(repo, new MemoryStore({ prefix: "uc" }), { ttlMs: 60_000, maxStaleMs: 60_000 });
    expect((await cache.get("u-1"))?.id).toBe("u-1");
    await cache.invalidate("u-1");
    expect(cache.peek("u-1")).toBeUndefined();
    down = true;
    try {
      await expect(cache.get("u-1")).rejects.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      down = false;
    }
  });
});
