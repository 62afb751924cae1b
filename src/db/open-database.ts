/**
 * Opens the database the way both the server and the CLI do: `DATABASE_URL`, or embedded
 * PGlite in the data directory when it is unset; the strict pool on it; migrations applied.
 */
import type { Config } from "../config/config.ts";
import type { DbMetrics } from "../observability/db-metrics.ts";
import type { Logger } from "../observability/logger.ts";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../embedded/pglite-server.ts";
import { StrictPool } from "./pool.ts";
import { migrate } from "./migrate.ts";

/** How to open it; the pool's other limits come from `config.db`. */
export interface OpenDatabaseOptions {
  /** Connections (the server: pool size + overflow; the CLI: 2). */
  max: number;
  metrics: DbMetrics;
  log: Logger;
  /** Waiters allowed in the checkout queue (default `config.db.maxWaiters`). */
  maxWaiters?: number;
  /** Held-connection warning threshold (default `config.db.leakThresholdMs`). */
  leakThresholdMs?: number;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** Connections to open before returning (default 0: on first use); not for embedded PGlite. */
  openConnections?: number;
}

/** An open database: the pool, and the embedded server behind it when there is one. */
export interface OpenDatabase {
  readonly pool: StrictPool;
  readonly embedded: EmbeddedPostgres | null;
  /** Migrations applied by this open (empty when none were pending or `migrate: false`). */
  readonly applied: readonly string[];
  /** For the startup line: where the data lives, without credentials. */
  readonly description: string;
}

/** See the module comment. On a failed migration everything opened here is closed again. */
export async function openDatabase(config: Config, opts: OpenDatabaseOptions): Promise<OpenDatabase> {
  let embedded: EmbeddedPostgres | null = null;
  let url = config.db.url;
  if (url === null) {
    embedded = await startEmbeddedPostgres(`${config.server.dataDir}/pglite`, opts.max);
    url = embedded.url;
  }
  const pool = new StrictPool(
    {
      url,
      max: opts.max,
      timeoutMs: config.db.timeoutSeconds * 1000,
      maxWaiters: opts.maxWaiters ?? config.db.maxWaiters,
      leakThresholdMs: opts.leakThresholdMs ?? config.db.leakThresholdMs,
      prepare: config.db.prepare,
    },
    opts.metrics,
    opts.log,
  );
  let applied: string[] = [];
  if (opts.migrate !== false) {
    try {
      applied = await migrate(pool);
    } catch (e) {
      await pool.close(1).catch(() => {});
      await embedded?.stop().catch(() => {});
      throw e;
    }
  }
  if (!embedded && (opts.openConnections ?? 0) > 0) await pool.open(opts.openConnections!);
  const description = embedded ? `embedded PGlite in ${embedded.dataDir}` : `PostgreSQL at ${redactUrl(url)}`;
  return { pool, embedded, applied, description };
}

/** host:port/db of a URL, without user or password. */
export function redactUrl(u: string): string {
  try {
    const p = new URL(u);
    return `${p.hostname}:${p.port || "5432"}${p.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}
