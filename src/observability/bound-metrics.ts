import type { Registry } from "prom-client";

/**
 * Counters and histograms for the per-request hot path, pre-bound per label set: a bound
 * series is a few plain numbers, so counting a request is an array increment instead of
 * prom-client's per-call label validation and hashing (≈ 0.4 µs per observe, measured in
 * bench/results/request-path.md). They register on a prom-client {@link Registry} as ordinary
 * metrics and render exactly as prom-client's Counter and Histogram do (same names, labels,
 * cumulative `le` buckets, `_sum`, `_count`), so dashboards and alerts see no difference.
 */

/** A bound counter series. */
export interface BoundCounterSeries {
  inc(): void;
}

/** A bound histogram series. */
export interface BoundHistogramSeries {
  observe(value: number): void;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

/** What prom-client's Registry reads from a metric. */
abstract class RegisteredMetric {
  readonly aggregator = "sum";
  abstract readonly type: "counter" | "histogram";
  constructor(readonly name: string, readonly help: string, protected readonly labelNames: readonly string[], registers: Registry[]) {
    for (const r of registers) r.registerMetric(this as never);
  }

  protected labelsOf(values: readonly string[]): Record<string, string> {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values`);
    const labels: Record<string, string> = {};
    this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
    return labels;
  }

  abstract values(): MetricValue[];
  abstract reset(): void;

  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }
}

class CounterSlot implements BoundCounterSeries {
  n = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(): void {
    this.n++;
  }
}

/** A counter whose series are bound once per label set. */
export class BoundCounter extends RegisteredMetric {
  readonly type = "counter";
  readonly #slots = new Map<string, CounterSlot>();

  constructor(opts: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] }) {
    super(opts.name, opts.help, opts.labelNames, opts.registers);
  }

  /** The series for these label values (in `labelNames` order); keep it, don't look it up per call. */
  bind(...values: string[]): BoundCounterSeries {
    const key = values.join("\u0000");
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = new CounterSlot(this.labelsOf(values));
      this.#slots.set(key, slot);
    }
    return slot;
  }

  values(): MetricValue[] {
    return [...this.#slots.values()].map((s) => ({ value: s.n, labels: s.labels }));
  }

  reset(): void {
    for (const s of this.#slots.values()) s.n = 0;
  }
}

class HistogramSlot implements BoundHistogramSeries {
  /** Per-bucket (not cumulative) counts; the last is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly labels: Record<string, string>, private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** A histogram whose series are bound once per label set. */
export class BoundHistogram extends RegisteredMetric {
  readonly type = "histogram";
  readonly #bounds: Float64Array;
  readonly #slots = new Map<string, HistogramSlot>();

  constructor(opts: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; registers: Registry[] }) {
    super(opts.name, opts.help, opts.labelNames, opts.registers);
    this.#bounds = Float64Array.from([...opts.buckets].sort((a, b) => a - b));
  }

  /** The series for these label values (in `labelNames` order); keep it, don't look it up per call. */
  bind(...values: string[]): BoundHistogramSeries {
    const key = values.join("\u0000");
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = new HistogramSlot(this.labelsOf(values), this.#bounds);
      this.#slots.set(key, slot);
    }
    return slot;
  }

  values(): MetricValue[] {
    const out: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.#slots.values()) {
      let acc = 0;
      this.#bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        out.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: bucket });
      });
      out.push({ labels: { le: "+Inf" }, sharedLabels: s.labels, value: s.count, metricName: bucket });
      out.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      out.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return out;
  }

  reset(): void {
    for (const s of this.#slots.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
