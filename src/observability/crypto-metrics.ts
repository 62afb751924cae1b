import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Crypto task buckets, in seconds: from 10 µs (an inline HMAC) to 5 s (a queue of password hashes). */
export const CRYPTO_SECONDS_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5, 5,
];

/** What the queue gauges read at scrape time. */
export interface CryptoPoolProbe {
  queueDepth(): number;
  utilization(): number;
}

/** The crypto service's metric set. Labels are bounded: op names, inline|pool, fixed words. */
export interface CryptoMetrics {
  taskSeconds: Histogram<"op" | "where">;
  queueDepth: Gauge;
  utilization: Gauge;
  rejected: Counter<"op">;
  workerErrors: Counter<"kind">;
  policy: Gauge<"op" | "where">;
  calibrationSeconds: Gauge<"what">;
}

/** Registers the crypto metrics on `registry`; the queue gauges read `probe` when scraped. */
export function createCryptoMetrics(registry: Registry, probe: CryptoPoolProbe): CryptoMetrics {
  const registers = [registry];
  return {
    taskSeconds: new Histogram({
      name: "gatehouse_crypto_task_seconds",
      help: "Time from submitting a crypto op to its result, by op and placement (queue wait included)",
      labelNames: ["op", "where"], buckets: CRYPTO_SECONDS_BUCKETS, registers,
    }),
    queueDepth: new Gauge({
      name: "gatehouse_crypto_queue_depth",
      help: "Crypto tasks waiting for a worker thread",
      registers,
      collect() {
        this.set(probe.queueDepth());
      },
    }),
    utilization: new Gauge({
      name: "gatehouse_crypto_pool_utilization",
      help: "Fraction of crypto worker threads running a task",
      registers,
      collect() {
        this.set(probe.utilization());
      },
    }),
    rejected: new Counter({
      name: "gatehouse_crypto_rejected_total",
      help: "Crypto tasks refused because the pool's queue was full (answered 503)",
      labelNames: ["op"], registers,
    }),
    workerErrors: new Counter({
      name: "gatehouse_crypto_worker_errors_total",
      help: "Worker-level failures: died = a thread died under a task, timeout = a task passed its deadline, error = a thread failed idle",
      labelNames: ["kind"], registers,
    }),
    policy: new Gauge({
      name: "gatehouse_crypto_policy",
      help: "1 for the placement (inline or pool) each crypto op uses, 0 for the other",
      labelNames: ["op", "where"], registers,
    }),
    calibrationSeconds: new Gauge({
      name: "gatehouse_crypto_calibration_seconds",
      help: "Startup calibration: main-thread CPU per pool round trip and per inline op, wall time per round trip",
      labelNames: ["what"], registers,
    }),
  };
}
