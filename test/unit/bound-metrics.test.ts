import { describe, expect, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { BoundCounter, BoundHistogram } from "../../src/observability/bound-metrics.ts";

const BUCKETS = [0.001, 0.01, 0.1, 1];
const VALUES = [0.0005, 0.001, 0.002, 0.05, 0.5, 3, 0.01];

describe("pre-bound metrics render exactly as prom-client's", () => {
  test("histogram: same exposition text (buckets cumulative, +Inf, _sum, _count, label escaping)", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const h = new Histogram({ name: "t_seconds", help: "h", labelNames: ["method", "route"], buckets: BUCKETS, registers: [theirs] });
    const b = new BoundHistogram({ name: "t_seconds", help: "h", labelNames: ["method", "route"], buckets: BUCKETS, registers: [ours] });
    for (const route of ["/a", '/b"\\x']) {
      const series = b.bind("GET", route);
      for (const v of VALUES) {
        h.labels("GET", route).observe(v);
        series.observe(v);
      }
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  test("counter: same exposition text; reset zeroes every series", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const c = new Counter({ name: "t_total", help: "c", labelNames: ["status"], registers: [theirs] });
    const b = new BoundCounter({ name: "t_total", help: "c", labelNames: ["status"], registers: [ours] });
    for (const [status, n] of [["200", 3], ["404", 1]] as const) {
      const series = b.bind(status);
      for (let i = 0; i < n; i++) {
        c.labels(status).inc();
        series.inc();
      }
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    expect(await ours.metrics()).toContain('t_total{status="200"} 0');
  });
});
