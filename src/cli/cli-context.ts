import pino from "pino";
import { loadConfig, type Config } from "../config/config.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { createRegistry } from "../observability/registry.ts";
import { createDbMetrics } from "../observability/db-metrics.ts";
import type { StrictPool } from "../db/pool.ts";
import { openDatabase, type OpenDatabase } from "../db/open-database.ts";
import { createStore } from "../kv/create-store.ts";
import type { KeyValueStore } from "../kv/store.ts";
import { CliError } from "./cli-error.ts";
import type { ParsedArgs } from "./args.ts";

/** What a command runs with: the server's config, and the database and store opened on demand. */
export interface CliContext {
  readonly config: Config;
  readonly args: ParsedArgs;
  /** The environment the configuration was read from (for CLI-only variables). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one warning line to stderr (stdout stays the command's output). */
  warn(line: string): void;
  /** The database pool, opened on first use; migrations are applied first unless `migrated: false`. */
  pool(opts?: { migrated?: boolean }): Promise<StrictPool>;
  /** The shared store, opened on first use. */
  store(): KeyValueStore;
  close(): Promise<void>;
}

/**
 * Reads the configuration exactly as the server does (same variables, same errors) and
 * opens connections lazily. Without `DATABASE_URL` the embedded PGlite database is used
 * only with `--embedded`, because it must not be opened while a server has it open.
 */
export function createCliContext(args: ParsedArgs, env: Record<string, string | undefined>, out: (line: string) => void, warn: (line: string) => void): CliContext {
  const config = loadConfig(env);
  // Logs go to stderr so stdout stays the command's output (tables, JSON).
  const log = createLogger(config.runtime.cliLogLevel, pino.destination(2));
  let db: OpenDatabase | null = null;
  let store: KeyValueStore | null = null;
  return {
    config, args, env, log, out, warn,
    async pool(opts = {}) {
      if (db) return db.pool;
      if (config.db.url === null && args.flags.get("embedded") !== true) {
        throw new CliError("ERR_CLI_NO_DATABASE", "DATABASE_URL is not set. Set it to the server's database, or stop Gatehouse and pass --embedded to use the embedded PGlite database in GATEHOUSE_DATA_DIR.", 2);
      }
      db = await openDatabase(config, {
        max: 2, maxWaiters: 100, leakThresholdMs: 600_000, migrate: opts.migrated !== false, log,
        metrics: createDbMetrics(createRegistry({ defaultMetrics: false })),
      });
      return db.pool;
    },
    store() {
      store ??= createStore(config.redis).store;
      return store;
    },
    async close() {
      await db?.pool.close(2).catch(() => {});
      await store?.close().catch(() => {});
      await db?.embedded?.stop().catch(() => {});
    },
  };
}
