import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StrictPool } from "../../src/db/pool.ts";
import { migrate } from "../../src/db/migrate.ts";
import { RevocationsRepo } from "../../src/db/repos/revocations.ts";
import { DurableRevocations } from "../../src/auth/durable-revocations.ts";
import { createRegistry } from "../../src/observability/registry.ts";
import { createDbMetrics } from "../../src/observability/db-metrics.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { waitFor } from "../helpers/wait.ts";

/** The durable revocation record on real Postgres: renewal-proof expiry, bounded cold lookups, the outage poll. */
describe("durable revocations", () => {
  let pool: StrictPool;
  let repo: RevocationsRepo;
  beforeAll(async () => {
    pool = new StrictPool(
      { url: await freshDatabaseUrl("durable_rev"), max: 2, timeoutMs: 5000, maxWaiters: 1000, leakThresholdMs: 60_000, prepare: true },
      createDbMetrics(createRegistry({ defaultMetrics: false })),
      captureLogger().log,
    );
    await migrate(pool);
    repo = new RevocationsRepo(pool);
  });
  afterAll(async () => {
    await pool.close(1);
  });

  test("a token revocation lasts until the session's latest expiry, and never moves back", async () => {
    const now = Math.floor(Date.now() / 1000);
    await pool.run("seed", async (c) => {
      await c`insert into gatehouse_session (id, user_id, created_at, last_seen_at, expires_at, auth_method) values ('s-renewed', 'u1', ${now}, ${now}, ${now + 900}, 'password')`;
    });
    expect(await repo.revokeToken("s-renewed", "u1", now + 60)).toBe(now + 900);
    expect(await repo.revokeToken("s-renewed", "u1", now + 30)).toBe(now + 900);
    expect(await repo.revokeToken("no-exp", "u1", null)).toBeNull();
    const times = await repo.revokeUser("u1", now, null);
    expect(times).toEqual({ userId: "u1", revokedAt: now, keysRevokedAt: null });
    expect(await repo.revokeUser("u1", now - 100, now - 5)).toEqual({ userId: "u1", revokedAt: now, keysRevokedAt: now - 5 });
  });

  test("cold lookups: concurrent misses share one query, 'not revoked' is remembered, a later revocation wins", async () => {
    let lookups = 0;
    const counting = { ...bind(repo), lookup: (t: string | null, u: string) => (lookups++, repo.lookup(t, u)) };
    const copy = new DurableRevocations(counting, captureLogger().log, () => {});
    const claims = { id: "u-cold", jti: "t-cold", iat: 100 };
    expect(copy.verdict(claims)).toBeUndefined();
    expect(await Promise.all(Array.from({ length: 20 }, () => copy.lookup(claims)))).toEqual(Array(20).fill(false));
    expect(lookups).toBe(1);
    expect(copy.verdict(claims)).toBe(false);
    await copy.revokeToken("t-cold", "u-cold", Math.floor(Date.now() / 1000) + 60);
    expect(copy.verdict(claims)).toBe(true);
    expect(lookups).toBe(1);
  });

  test("while polling, a revocation written by a peer reaches this copy; a loaded copy needs no lookups", async () => {
    const seen: string[] = [];
    const copy = new DurableRevocations(repo, captureLogger().log, (e) => seen.push(e.jti ?? e.userId ?? ""), 50);
    await copy.load();
    expect(copy.complete).toBe(true);
    expect(copy.verdict({ id: "u1", jti: "s-renewed", iat: 1 })).toBe(true);
    expect(copy.verdict({ id: "u-new", jti: "t-new", iat: Math.floor(Date.now() / 1000) + 5 })).toBe(false);
    copy.startPolling();
    try {
      const peer = new DurableRevocations(repo, captureLogger().log, () => {});
      await peer.revokeToken("t-new", "u-new", Math.floor(Date.now() / 1000) + 60);
      await waitFor("the poll applies the peer's revocation", () => copy.verdict({ id: "u-new", jti: "t-new" }) === true, 3000);
      expect(seen).toContain("t-new");
    } finally {
      copy.stop();
    }
  });
});

function bind(r: RevocationsRepo) {
  return {
    revokeToken: r.revokeToken.bind(r),
    revokeUser: r.revokeUser.bind(r),
    loadLive: r.loadLive.bind(r),
    changedSince: r.changedSince.bind(r),
    lookup: r.lookup.bind(r),
  };
}
