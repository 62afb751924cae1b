import type { StrictPool } from "./pool.ts";
import { openWebUITables } from "./migrations/001-openwebui-tables.ts";
import { gatehouseSessions } from "./migrations/002-gatehouse-sessions.ts";
import { gatehouseGateway } from "./migrations/003-gatehouse-gateway.ts";
import { gatehouseRevocations } from "./migrations/004-gatehouse-revocations.ts";
import { gatehouseUsageLiveness } from "./migrations/005-gatehouse-usage-liveness.ts";
import { gatehouseGroups } from "./migrations/006-groups.ts";
import { gatehouseMfa } from "./migrations/007-gatehouse-mfa.ts";

/** One schema step. `id` never changes once released; `sql` must be safe to re-run. */
export interface Migration {
  id: string;
  sql: string;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  { id: "001-openwebui-tables", sql: openWebUITables },
  { id: "002-gatehouse-sessions", sql: gatehouseSessions },
  { id: "003-gatehouse-gateway", sql: gatehouseGateway },
  { id: "004-gatehouse-revocations", sql: gatehouseRevocations },
  { id: "005-gatehouse-usage-liveness", sql: gatehouseUsageLiveness },
  { id: "006-groups", sql: gatehouseGroups },
  { id: "007-gatehouse-mfa", sql: gatehouseMfa },
];

// An arbitrary constant: serialises concurrent instances running migrations at boot.
const MIGRATION_LOCK_KEY = 7_243_100_001;

/**
 * Applies migrations not yet recorded in `gatehouse_migrations`, each in its own
 * transaction, under a Postgres advisory lock so concurrent instances do not race.
 *
 * @returns the ids applied by this call (empty when up to date).
 */
export async function migrate(pool: StrictPool, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  return pool.run("migrate", async (conn) => {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await conn`
        CREATE TABLE IF NOT EXISTS gatehouse_migrations (
          id TEXT PRIMARY KEY,
          applied_at BIGINT NOT NULL
        )`;
      const done = new Set((await conn<{ id: string }[]>`select id from gatehouse_migrations`).map((r) => r.id));
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.id)) continue;
        await conn`begin`;
        try {
          await conn.unsafe(m.sql);
          await conn`insert into gatehouse_migrations (id, applied_at) values (${m.id}, ${Math.floor(Date.now() / 1000)})`;
          await conn`commit`;
        } catch (e) {
          await conn`rollback`.catch(() => {});
          throw e;
        }
        applied.push(m.id);
      }
      return applied;
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  });
}
