import { Counter, Histogram, type Registry } from "prom-client";

/** Methods reported as themselves; anything else is `other`, so labels stay bounded. */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Per-route request counters and latency, labelled by route template (never the raw path). */
export interface HttpMetrics {
  /** Counts one finished request and observes its time to response headers. */
  observe(method: string, route: string, status: number, seconds: number): void;
}

/** Registers `gatehouse_http_requests_total` and `gatehouse_http_request_duration_seconds`. */
export function createHttpMetrics(registry: Registry): HttpMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: "gatehouse_http_requests_total",
    help: "HTTP requests answered, by method, route template and status",
    labelNames: ["method", "route", "status"], registers,
  });
  const duration = new Histogram({
    name: "gatehouse_http_request_duration_seconds",
    help: "Time from request to response headers (streams: to the first byte of the response), by method and route template",
    labelNames: ["method", "route"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  // prom-client hashes the label object on every labelled call; children are cached per key instead.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  return {
    observe(method, route, status, seconds) {
      const m = KNOWN_METHODS.has(method) ? method : "other";
      const timerKey = `${m} ${route}`;
      let timer = timers.get(timerKey);
      if (timer === undefined) {
        timer = duration.labels(m, route);
        timers.set(timerKey, timer);
      }
      timer.observe(seconds);
      const countKey = `${timerKey} ${status}`;
      let counter = counters.get(countKey);
      if (counter === undefined) {
        counter = requests.labels(m, route, String(status));
        counters.set(countKey, counter);
      }
      counter.inc();
    },
  };
}
