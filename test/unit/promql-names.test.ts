// The PromQL metric-name extractor behind test/integration/monitoring-metrics.test.ts.
import { describe, expect, test } from "bun:test";
import { declaredTypes, metricFamily, missingReason, promqlMetricNames } from "../helpers/promql-names.ts";

describe("promqlMetricNames", () => {
  const cases: Array<[string, string[]]> = [
    [
      'histogram_quantile(0.99, sum by (le, route) (rate(gatehouse_http_request_duration_seconds_bucket{instance=~"$instance", route!="/metrics"}[$__rate_interval])))',
      ["gatehouse_http_request_duration_seconds_bucket"],
    ],
    [
      'sum by (instance) (rate(gatehouse_http_requests_total{status=~"5.."}[5m])) / sum by (instance) (rate(gatehouse_http_requests_total[5m])) > 0.05',
      ["gatehouse_http_requests_total"],
    ],
    [
      'max by (instance) (gatehouse_db_pool_connections{state="active"}) >= on (instance) max by (instance) (gatehouse_db_pool_max_connections) and on(instance) max by (instance) (gatehouse_db_pool_waiting) > 0',
      ["gatehouse_db_pool_connections", "gatehouse_db_pool_max_connections", "gatehouse_db_pool_waiting"],
    ],
    ["sum(rate(a_total[5m] offset 1h)) by (route) * on (instance) group_left (version) b_info", ["a_total", "b_info"]],
    ["1 - avg_over_time(x_ratio[10m:1m]) AND ignoring(job) y_gauge BOOL == 0", ["x_ratio", "y_gauge"]],
    ['label_replace(up{job="gatehouse"}, "host", "$1", "instance", "(.*):.*")', ["up"]],
    ['{__name__="by_name_only", job="x"}', ["by_name_only"]],
    ["sum(rate(x_sum[5m])) / sum(rate(x_count[5m]))", ["x_sum", "x_count"]],
    ["vector(1) + 2.5e-3 * time()", []],
    ["label_values(gatehouse_db_pool_max_connections, instance)", ["gatehouse_db_pool_max_connections"]],
    ['label_values(gatehouse_store_up{job="g"}, instance)', ["gatehouse_store_up"]],
    ["label_values(instance)", []],
    ["query_result(topk(5, sum by (route) (rate(r_total[1h]))))", ["r_total"]],
  ];
  for (const [expr, names] of cases) {
    test(expr, () => expect(promqlMetricNames(expr)).toEqual(names));
  }
});

describe("metricFamily and missingReason", () => {
  const exposition = [
    "# HELP h_seconds a histogram",
    "# TYPE h_seconds histogram",
    'h_seconds_bucket{le="+Inf"} 0',
    "# TYPE c_total counter",
    "# TYPE g gauge",
    "# TYPE s summary",
  ].join("\n");
  const types = declaredTypes(exposition);

  test("declaredTypes reads the # TYPE lines", () => {
    expect([...types]).toEqual([["h_seconds", "histogram"], ["c_total", "counter"], ["g", "gauge"], ["s", "summary"]]);
  });

  test("histogram series map to their family", () => {
    expect(metricFamily("h_seconds_bucket")).toEqual({ family: "h_seconds", suffix: "_bucket" });
    expect(metricFamily("c_total")).toEqual({ family: "c_total", suffix: null });
  });

  test("declared names and histogram series are served; others are reported", () => {
    for (const ok of ["h_seconds_bucket", "h_seconds_sum", "h_seconds_count", "c_total", "g", "s_sum", "s_count"]) {
      expect({ ok, reason: missingReason(ok, types) }).toEqual({ ok, reason: null });
    }
    expect(missingReason("nope_total", types)).toContain("nope_total");
    expect(missingReason("nope_seconds_bucket", types)).toContain("nope_seconds");
    expect(missingReason("g_bucket", types)).toContain("g is a gauge");
    expect(missingReason("s_bucket", types)).toContain("s is a summary");
  });
});
