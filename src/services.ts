import type { Registry } from "prom-client";
import type { Config } from "./config/config.ts";
import type { Logger } from "./observability/logger.ts";
import { createRegistry } from "./observability/registry.ts";
import { createDbMetrics, type DbMetrics } from "./observability/db-metrics.ts";
import { createHttpMetrics, type HttpMetrics } from "./observability/http-metrics.ts";
import { createStoreMetrics } from "./observability/store-metrics.ts";
import { AuditTrail } from "./observability/audit-trail.ts";
import type { StrictPool } from "./db/pool.ts";
import { openDatabase } from "./db/open-database.ts";
import type { KeyValueStore } from "./kv/store.ts";
import type { KeyWatcher } from "./kv/key-watch.ts";
import { createStore } from "./kv/create-store.ts";
import { RedisStore } from "./kv/redis.ts";
import { observeCircuits } from "./observability/circuit-metrics.ts";
import { loadOrCreateSecretKey } from "./embedded/data-dir.ts";
import { Lifecycle } from "./lifecycle.ts";
import { CryptoService } from "./crypto/offload/crypto-service.ts";
import { defaultCalibrationSamples } from "./crypto/offload/calibration.ts";

/** Everything a Gatehouse instance runs on, built once at boot and passed to the app. */
export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly registry: Registry;
  readonly dbMetrics: DbMetrics;
  readonly httpMetrics: HttpMetrics;
  /** Auth events: audit log lines plus `gatehouse_auth_events_total`. */
  readonly audit: AuditTrail;
  readonly pool: StrictPool;
  readonly store: KeyValueStore;
  /** Server-assisted invalidation of store keys; null where the store cannot provide it. */
  readonly watcher: KeyWatcher | null;
  readonly lifecycle: Lifecycle;
  /** Crypto ops, inline or on the worker pool by the measured policy. */
  readonly crypto: CryptoService;
  /** `WEBUI_SECRET_KEY`, or the generated one. */
  readonly secretKey: string;
  /** Human-readable descriptions for the startup line (no credentials). */
  readonly describe: { database: string; store: string; secretKey: string };
  /** Closes the pool, the store and the embedded database, in that order. */
  close(): Promise<void>;
}

/** Options mostly for tests: an own registry without process metrics, etc. */
export interface ServiceOptions {
  defaultMetrics?: boolean;
}

/**
 * Builds the services from config: embedded PGlite when no `DATABASE_URL`, the in-memory
 * store when no Redis is configured, a generated secret key when none is given; then runs
 * migrations.
 */
export async function createServices(config: Config, log: Logger, opts: ServiceOptions = {}): Promise<Services> {
  const registry = createRegistry({ defaultMetrics: opts.defaultMetrics ?? true });
  // GATEHOUSE_PROCESSES > 1: every series of this process carries `process="<index>"`.
  if (config.processes.index !== null) registry.setDefaultLabels({ process: String(config.processes.index) });
  const dbMetrics = createDbMetrics(registry);
  const max = config.db.poolSize + config.db.maxOverflow;

  let secretKey = config.secretKey;
  let secretDescription = "WEBUI_SECRET_KEY";
  if (secretKey === null) {
    const loaded = await loadOrCreateSecretKey(config.server.dataDir);
    secretKey = loaded.key;
    secretDescription = `${loaded.generated ? "generated into" : "read from"} ${config.server.dataDir}/.webui_secret_key`;
  }

  // The pool's core size is opened at start, so the first burst does not wait for connects.
  const db = await openDatabase(config, { max, metrics: dbMetrics, log, openConnections: config.db.poolSize });
  if (db.applied.length > 0) log.info({ applied: db.applied }, "database migrations applied");
  const pool = db.pool;
  const storeMetrics = createStoreMetrics(registry, () => store.ping());
  const { store, watcher } = createStore(config.redis, { onUnavailable: storeMetrics.unavailable });
  observeCircuits(registry, log, store instanceof RedisStore ? [pool.circuit, store.circuit] : [pool.circuit]);
  const crypto = await CryptoService.create({
    registry,
    config: config.crypto,
    calibrate: { samples: defaultCalibrationSamples() },
  });
  log.info({ crypto: crypto.describe() }, "crypto offload policy decided");

  return {
    config, log, registry, dbMetrics, pool, store, watcher, crypto,
    httpMetrics: createHttpMetrics(registry),
    audit: new AuditTrail(log, registry),
    lifecycle: new Lifecycle(),
    secretKey,
    describe: {
      database: db.description,
      store: store.kind === "memory" ? "in-memory (single instance only; set REDIS_URL to scale out)" : `Redis (${store.kind})`,
      secretKey: secretDescription,
    },
    async close() {
      await crypto.close().catch((e) => log.warn({ err: String(e) }, "draining the crypto pool failed"));
      await pool.close(2).catch((e) => log.warn({ err: String(e) }, "closing the database pool failed"));
      await store.close().catch((e) => log.warn({ err: String(e) }, "closing the store failed"));
      await db.embedded?.stop().catch((e) => log.warn({ err: String(e) }, "stopping embedded PGlite failed"));
    },
  };
}
