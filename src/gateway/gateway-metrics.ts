import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Seconds buckets for upstream timings: LLM calls run from milliseconds to minutes. */
const UPSTREAM_SECONDS_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

/** The gateway's metrics. Labels are bounded: route templates, outcomes, `true|false`. */
export interface GatewayMetrics {
  calls: Counter<"route" | "outcome">;
  streamsActive: Gauge;
  firstByte: Histogram<"stream">;
  duration: Histogram<"stream">;
  usageRowsWritten: Counter;
  usageWriteFailures: Counter;
  usageRowsDropped: Counter;
  /** Calls answered 503 because this process had no descriptor/port left (not an upstream failure). */
  localExhaustion: Counter<"code">;
}

/** Registers the gateway metrics on `registry`. */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  return {
    calls: new Counter({
      name: "gatehouse_gateway_upstream_calls_total",
      help: "Upstream chat calls by route template and outcome (completed, client_closed, upstream_*)",
      labelNames: ["route", "outcome"], registers,
    }),
    streamsActive: new Gauge({ name: "gatehouse_gateway_streams_active", help: "Upstream chat calls in flight", registers }),
    firstByte: new Histogram({
      name: "gatehouse_gateway_upstream_first_byte_seconds",
      help: "Time to the upstream's first event (streaming) or response headers (non-streaming)",
      labelNames: ["stream"], buckets: UPSTREAM_SECONDS_BUCKETS, registers,
    }),
    duration: new Histogram({
      name: "gatehouse_gateway_upstream_duration_seconds",
      help: "Time from calling the upstream to the end of its answer",
      labelNames: ["stream"], buckets: UPSTREAM_SECONDS_BUCKETS, registers,
    }),
    usageRowsWritten: new Counter({ name: "gatehouse_gateway_usage_rows_written_total", help: "gatehouse_usage rows written", registers }),
    usageWriteFailures: new Counter({ name: "gatehouse_gateway_usage_write_failures_total", help: "Failed gatehouse_usage batch writes (retried)", registers }),
    usageRowsDropped: new Counter({ name: "gatehouse_gateway_usage_rows_dropped_total", help: "gatehouse_usage rows dropped because too many were waiting to be written", registers }),
    localExhaustion: new Counter({
      name: "gatehouse_gateway_local_exhaustion_total",
      help: "Upstream calls refused with 503 because this process ran out of descriptors or local ports (EMFILE, ENFILE, EADDRNOTAVAIL, ...)",
      labelNames: ["code"], registers,
    }),
  };
}
