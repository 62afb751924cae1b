import { migrate } from "../db/migrate.ts";
import type { CliCommand } from "./command.ts";

/** `migrate`: applies pending migrations (idempotent, under an advisory lock) and lists them. */
export const migrateCommand: CliCommand = {
  name: "migrate",
  usage: "migrate",
  summary: "apply pending database migrations",
  async run(ctx) {
    const pool = await ctx.pool({ migrated: false });
    const applied = await migrate(pool);
    const rows = await pool.run("cli.migrations", async (c) => c<{ id: string }[]>`select id from gatehouse_migrations order by id`);
    ctx.out(`migrations applied now: ${applied.length === 0 ? "none pending" : applied.join(", ")}`);
    ctx.out(`recorded in gatehouse_migrations: ${rows.map((r) => r.id).join(", ")}`);
  },
};
