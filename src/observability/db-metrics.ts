import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { BoundHistogram } from "./bound-metrics.ts";

/** Checkout-wait and hold buckets, in seconds, starting at 0.5 ms. */
export const DB_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The strict pool's metric set (DESIGN §5), modelled on HikariCP's. Labels are bounded. */
export interface DbMetrics {
  checkoutWait: Histogram<"op">;
  checkoutHold: Histogram<"op">;
  /** Pre-bound (bound-metrics.ts): observed on every request. */
  requestCheckouts: BoundHistogram;
  requestWait: BoundHistogram;
  connections: Gauge<"state">;
  waiting: Gauge;
  /** Most reserved connections at once since start (counted on postgres.js reservations). */
  activePeak: Gauge;
  maxConnections: Gauge;
  timeouts: Counter;
  rejected: Counter;
  leaks: Counter;
  errors: Counter<"op">;
  /** Keys one batched read (src/db/batch-loader.ts) asked for on one checkout. */
  batchKeys: Histogram<"op">;
}

/** Registers the database metrics on `registry`. */
export function createDbMetrics(registry: Registry): DbMetrics {
  const registers = [registry];
  return {
    checkoutWait: new Histogram({
      name: "gatehouse_db_checkout_wait_seconds",
      help: "Time from asking the pool for a connection to holding one",
      labelNames: ["op"], buckets: DB_SECONDS_BUCKETS, registers,
    }),
    checkoutHold: new Histogram({
      name: "gatehouse_db_checkout_hold_seconds",
      help: "Time a checked-out connection was held before release",
      labelNames: ["op"], buckets: DB_SECONDS_BUCKETS, registers,
    }),
    requestCheckouts: new BoundHistogram({
      name: "gatehouse_db_request_checkouts",
      help: "Database checkouts made while serving one HTTP request",
      labelNames: ["route"], buckets: [0, 1, 2, 3, 5, 8, 13, 21], registers,
    }),
    requestWait: new BoundHistogram({
      name: "gatehouse_db_request_wait_seconds",
      help: "Total checkout wait of one HTTP request",
      labelNames: ["route"], buckets: DB_SECONDS_BUCKETS, registers,
    }),
    connections: new Gauge({
      name: "gatehouse_db_pool_connections",
      help: "Pool connections by state (active = checked out, idle = open and free)",
      labelNames: ["state"], registers,
    }),
    waiting: new Gauge({ name: "gatehouse_db_pool_waiting", help: "Checkouts queued for a connection", registers }),
    activePeak: new Gauge({ name: "gatehouse_db_pool_active_peak", help: "Most connections checked out at the same time since the process started", registers }),
    maxConnections: new Gauge({ name: "gatehouse_db_pool_max_connections", help: "DATABASE_POOL_SIZE + DATABASE_POOL_MAX_OVERFLOW", registers }),
    timeouts: new Counter({ name: "gatehouse_db_checkout_timeouts_total", help: "Checkouts that failed after DATABASE_POOL_TIMEOUT", registers }),
    rejected: new Counter({ name: "gatehouse_db_checkout_rejected_total", help: "Checkouts refused at once because GATEHOUSE_DB_MAX_WAITERS were queued", registers }),
    leaks: new Counter({ name: "gatehouse_db_leaks_total", help: "Checkouts held longer than GATEHOUSE_DB_LEAK_THRESHOLD_MS", registers }),
    errors: new Counter({ name: "gatehouse_db_connection_errors_total", help: "Checkouts that failed because the database was unreachable", labelNames: ["op"], registers }),
    batchKeys: new Histogram({
      name: "gatehouse_db_batch_keys",
      help: "Keys one batched read served with one checkout (concurrent cache misses coalesced)",
      labelNames: ["op"], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], registers,
    }),
  };
}
