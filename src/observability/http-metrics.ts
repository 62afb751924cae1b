import type { Registry } from "prom-client";
import { BoundCounter, BoundHistogram, type BoundCounterSeries, type BoundHistogramSeries } from "./bound-metrics.ts";

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
  const requests = new BoundCounter({
    name: "gatehouse_http_requests_total",
    help: "HTTP requests answered, by method, route template and status",
    labelNames: ["method", "route", "status"], registers,
  });
  const duration = new BoundHistogram({
    name: "gatehouse_http_request_duration_seconds",
    help: "Time from request to response headers (streams: to the first byte of the response), by method and route template",
    labelNames: ["method", "route"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  // Two small lookups per request, no key built: route template → method → its timer and its counters by status.
  type Entry = { timer: BoundHistogramSeries; byStatus: Map<number, BoundCounterSeries>; method: string; route: string };
  const routes = new Map<string, Map<string, Entry>>();
  return {
    observe(method, route, status, seconds) {
      const m = KNOWN_METHODS.has(method) ? method : "other";
      let methods = routes.get(route);
      if (methods === undefined) {
        methods = new Map();
        routes.set(route, methods);
      }
      let entry = methods.get(m);
      if (entry === undefined) {
        entry = { timer: duration.bind(m, route), byStatus: new Map(), method: m, route };
        methods.set(m, entry);
      }
      entry.timer.observe(seconds);
      let counter = entry.byStatus.get(status);
      if (counter === undefined) {
        counter = requests.bind(entry.method, entry.route, String(status));
        entry.byStatus.set(status, counter);
      }
      counter.inc();
    },
  };
}
