// The monitoring bundle in deploy/ (Grafana dashboard, Prometheus alert rules and config, Grafana
// provisioning) and the compose `monitoring` profile, checked statically, plus the one check that
// matters most: every metric name a dashboard query or an alert expression reads is exported by a
// real Gatehouse (in process, on real Postgres and Redis) on GET /metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { sample } from "../helpers/metrics-text.ts";
import { declaredTypes, missingReason, promqlMetricNames } from "../helpers/promql-names.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DASHBOARD_PATH = "deploy/grafana/gatehouse.json";
const ALERTS_PATH = "deploy/prometheus/alerts.yml";
const PROMETHEUS_PATH = "deploy/prometheus/prometheus.yml";
const DATASOURCES_PATH = "deploy/grafana/provisioning/datasources/prometheus.yml";
const PROVIDERS_PATH = "deploy/grafana/provisioning/dashboards/gatehouse.yml";

/**
 * Series Prometheus makes itself for every scrape target; they are never on /metrics.
 * Only `up` is used (the GatehouseDown alert).
 */
const SYNTHESIZED_BY_PROMETHEUS = new Set(["up"]);

const read = (path: string) => readFileSync(`${ROOT}${path}`, "utf8");
const yaml = (path: string) => Bun.YAML.parse(read(path)) as unknown;

// ---- the files, typed as far as the tests read them ----

interface Target { expr?: string; refId?: string; datasource?: { uid?: string } }
interface Panel {
  id?: number; type?: string; title?: string; description?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable { name?: string; type?: string; query?: string | { query?: string }; current?: { value?: unknown } }
interface Dashboard { uid?: string; title?: string; schemaVersion?: number; panels?: Panel[]; templating?: { list?: Variable[] } }
interface Rule { alert?: string; record?: string; expr?: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface RuleFile { groups?: Array<{ name?: string; rules?: Rule[] }> }
interface PromConfig { rule_files?: string[]; scrape_configs?: Array<{ job_name?: string; metrics_path?: string; static_configs?: Array<{ targets?: string[] }> }> }
interface ComposeService {
  image?: string; profiles?: string[]; command?: string[] | string; volumes?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
}

const dashboard = JSON.parse(read(DASHBOARD_PATH)) as Dashboard;
const rules = yaml(ALERTS_PATH) as RuleFile;

/** Every panel, rows' nested (collapsed) panels included. */
function allPanels(d: Dashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}
const dataPanels = () => allPanels(dashboard).filter((p) => p.type !== "row");
const variableQuery = (v: Variable) => (typeof v.query === "string" ? v.query : (v.query?.query ?? ""));
const allRules = () => (rules.groups ?? []).flatMap((g) => g.rules ?? []);

/** Every PromQL expression in the dashboard and the rules, with where it came from. */
function expressions(): Array<{ where: string; expr: string }> {
  return [
    ...dataPanels().flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${DASHBOARD_PATH} panel "${p.title}" ${t.refId}`, expr: t.expr ?? "" }))),
    ...(dashboard.templating?.list ?? [])
      .filter((v) => v.type === "query")
      .map((v) => ({ where: `${DASHBOARD_PATH} variable $${v.name}`, expr: variableQuery(v) })),
    ...allRules().map((r) => ({ where: `${ALERTS_PATH} ${r.alert ?? r.record}`, expr: r.expr ?? "" })),
  ];
}

// ---- a real Gatehouse to read /metrics from ----

const PASSWORD = "monitoring-horse-battery";
let app: TestApp;
let exposition = "";

beforeAll(async () => {
  app = await startTestApp({
    DATABASE_URL: await freshDatabaseUrl("monitoring"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("monitoring"),
  });
  const up = await app.request("/api/v1/auths/signup", postJson({ name: "Mona", email: "mona@example.com", password: PASSWORD }));
  expect(up.status).toBe(200);
  const signin = await app.request("/api/v1/auths/signin", postJson({ email: "mona@example.com", password: PASSWORD }));
  expect(signin.status).toBe(200);
  const { token } = (await signin.json()) as { token: string };
  const bad = await app.request("/api/v1/auths/signin", postJson({ email: "mona@example.com", password: "not-the-password" }));
  expect(bad.status).toBe(400);
  const me = await app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${token}` } });
  expect(me.status).toBe(200);
  expect((await app.request("/metrics")).status).toBe(200);
  const r = await app.request("/metrics");
  expect(r.status).toBe(200);
  exposition = await r.text();
});
afterAll(async () => {
  await app?.close();
});

describe("every metric the dashboard and the alerts use is on /metrics", () => {
  test("the exposition is a real one: the requests made above were counted", () => {
    expect(sample(exposition, "gatehouse_http_requests_total", { method: "GET", route: "/api/v1/auths/", status: "200" })).toBeGreaterThanOrEqual(1);
    expect(sample(exposition, "gatehouse_auth_events_total", { event: "signin", outcome: "success" })).toBeGreaterThanOrEqual(1);
    expect(sample(exposition, "gatehouse_auth_events_total", { event: "signin", outcome: "failure" })).toBeGreaterThanOrEqual(1);
    expect(sample(exposition, "gatehouse_store_up")).toBe(1);
  });

  test("the expressions name many metrics (the extraction is not vacuous)", () => {
    const names = new Set(expressions().flatMap((e) => promqlMetricNames(e.expr)));
    expect(names.size).toBeGreaterThanOrEqual(30);
    for (const e of expressions()) expect({ ...e, names: promqlMetricNames(e.expr).length > 0 }).toEqual({ ...e, names: true });
  });

  test("the dashboard reads each metric family its panels are about", () => {
    const used = new Set(expressions().filter((e) => e.where.startsWith(DASHBOARD_PATH)).flatMap((e) => promqlMetricNames(e.expr)));
    const expected = [
      "gatehouse_http_requests_total", "gatehouse_http_request_duration_seconds_bucket", "gatehouse_auth_events_total",
      "gatehouse_db_checkout_wait_seconds_bucket", "gatehouse_db_pool_connections", "gatehouse_db_pool_waiting",
      "gatehouse_db_pool_max_connections", "gatehouse_db_checkout_timeouts_total", "gatehouse_db_checkout_rejected_total",
      "gatehouse_db_leaks_total", "gatehouse_db_request_checkouts_bucket", "gatehouse_crypto_queue_depth",
      "gatehouse_crypto_pool_utilization", "gatehouse_crypto_rejected_total", "gatehouse_crypto_task_seconds_bucket",
      "gatehouse_ws_connections", "gatehouse_ws_closes_total", "gatehouse_revocation_propagation_seconds_bucket",
      "gatehouse_gateway_upstream_duration_seconds_bucket", "gatehouse_gateway_upstream_first_byte_seconds_bucket",
      "gatehouse_store_up", "gatehouse_store_errors_total",
    ];
    expect(expected.filter((n) => !used.has(n))).toEqual([]);
  });

  test("no expression names a metric /metrics does not declare with # TYPE", () => {
    const types = declaredTypes(exposition);
    expect(types.size).toBeGreaterThan(0);
    const missing = expressions().flatMap(({ where, expr }) =>
      promqlMetricNames(expr)
        .filter((n) => !SYNTHESIZED_BY_PROMETHEUS.has(n))
        .map((n) => missingReason(n, types))
        .filter((reason): reason is string => reason !== null)
        .map((reason) => `${reason} (in ${where})`),
    );
    expect(missing).toEqual([]);
  });
});

describe(`${ALERTS_PATH}`, () => {
  test("has groups of rules, every alert named once", () => {
    expect((rules.groups ?? []).length).toBeGreaterThan(0);
    for (const g of rules.groups ?? []) {
      expect(typeof g.name).toBe("string");
      expect((g.rules ?? []).length).toBeGreaterThan(0);
    }
    const names = allRules().map((r) => r.alert);
    expect(names.every((n) => typeof n === "string" && /^[A-Z][A-Za-z0-9]+$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  test("every alert has expr, for, labels.severity, annotations.summary and .description", () => {
    for (const r of allRules()) {
      expect({
        alert: r.alert,
        expr: typeof r.expr === "string" && r.expr.trim() !== "",
        for: /^(\d+(ms|s|m|h|d|w|y))+$/.test(r.for ?? ""),
        severity: ["critical", "warning", "info"].includes(r.labels?.["severity"] ?? ""),
        summary: (r.annotations?.["summary"] ?? "").trim().length > 0,
        description: (r.annotations?.["description"] ?? "").trim().length > 40,
      }).toEqual({ alert: r.alert, expr: true, for: true, severity: true, summary: true, description: true });
    }
  });

  test("covers the pool, crypto, store, 5xx and revocation conditions", () => {
    const names = allRules().map((r) => r.alert);
    expect(names).toEqual(expect.arrayContaining([
      "GatehouseDbCheckoutWaitHigh", "GatehouseDbCheckoutTimeouts", "GatehouseDbPoolSaturated",
      "GatehouseCryptoQueueRejecting", "GatehouseStoreDegraded", "GatehouseHigh5xxRate", "GatehouseRevocationPropagationSlow",
    ]));
  });
});

describe(`${DASHBOARD_PATH}`, () => {
  test("is a Grafana dashboard of schemaVersion >= 39 with a uid and a title", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.title).toBe("Gatehouse");
  });

  test("has a Prometheus data-source variable and an instance variable", () => {
    const vars = dashboard.templating?.list ?? [];
    const ds = vars.find((v) => v.name === "DS_PROMETHEUS");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    const instance = vars.find((v) => v.name === "instance");
    expect(instance?.type).toBe("query");
    expect(variableQuery(instance!)).toMatch(/^label_values\(.+,\s*instance\)$/);
  });

  test("every panel has a title; every data panel a description, a unit and targets with an expr on ${DS_PROMETHEUS}", () => {
    for (const p of allPanels(dashboard)) expect({ id: p.id, title: (p.title ?? "").trim() !== "" }).toEqual({ id: p.id, title: true });
    expect(dataPanels().length).toBeGreaterThanOrEqual(20);
    for (const p of dataPanels()) {
      const targets = p.targets ?? [];
      expect({
        title: p.title,
        description: (p.description ?? "").trim().length > 0,
        unit: (p.fieldConfig?.defaults?.unit ?? "") !== "",
        targets: targets.length > 0 && targets.every((t) => (t.expr ?? "").trim() !== ""),
        datasource: [p.datasource, ...targets.map((t) => t.datasource)].every((d) => d?.uid === "${DS_PROMETHEUS}"),
        filtersInstance: targets.every((t) => (t.expr ?? "").includes('instance=~"$instance"')),
      }).toEqual({ title: p.title, description: true, unit: true, targets: true, datasource: true, filtersInstance: true });
    }
  });

  test("panel ids are unique and no two panels overlap on the grid", () => {
    const panels = allPanels(dashboard);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const overlaps: string[] = [];
    panels.forEach((a, i) => panels.slice(i + 1).forEach((b) => {
      const g = a.gridPos!, h = b.gridPos!;
      if (g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h) overlaps.push(`${a.title} / ${b.title}`);
    }));
    expect(overlaps).toEqual([]);
    expect(panels.every((p) => p.gridPos!.x + p.gridPos!.w <= 24)).toBe(true);
  });
});

describe("Prometheus config, Grafana provisioning and the compose monitoring profile", () => {
  const compose = () => Bun.YAML.parse(read("docker-compose.yml")) as { services?: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  const service = (name: string) => compose().services?.[name];
  /** Bind mounts of a service as host path → container path, with the read-only flag. */
  const binds = (s: ComposeService | undefined) =>
    (s?.volumes ?? [])
      .filter((v) => v.startsWith("./"))
      .map((v) => {
        const [host, container, mode] = v.split(":") as [string, string, string | undefined];
        return { host: host.slice(2), container, ro: mode === "ro" };
      });
  const containerPathOf = (s: ComposeService | undefined, hostPath: string) => {
    for (const b of binds(s)) {
      if (b.host === hostPath) return b.container;
      if (hostPath.startsWith(`${b.host}/`)) return `${b.container}${hostPath.slice(b.host.length)}`;
    }
    return undefined;
  };

  test("prometheus.yml scrapes gatehouse:8080/metrics as job gatehouse (the job GatehouseDown reads)", () => {
    const cfg = yaml(PROMETHEUS_PATH) as PromConfig;
    const job = cfg.scrape_configs?.find((j) => j.job_name === "gatehouse");
    expect(job?.metrics_path ?? "/metrics").toBe("/metrics");
    expect(job?.static_configs?.flatMap((s) => s.targets ?? [])).toContain("gatehouse:8080");
    expect(allRules().find((r) => r.alert === "GatehouseDown")?.expr).toContain('job="gatehouse"');
  });

  test("the monitoring services are in the monitoring profile, pinned, health-checked and depend on gatehouse", () => {
    for (const name of ["prometheus", "grafana"]) {
      const s = service(name);
      expect(s?.profiles).toEqual(["monitoring"]);
      expect(s?.image ?? "").toMatch(/^[a-z0-9/._-]+:v?\d+\.\d+\.\d+$/);
      const t = s?.healthcheck?.test;
      expect(Array.isArray(t) ? t.join(" ") : (t ?? "")).not.toBe("");
      expect(s?.healthcheck?.disable).not.toBe(true);
      const deps = Array.isArray(s?.depends_on) ? s.depends_on : Object.keys(s?.depends_on ?? {});
      expect(deps).toContain("gatehouse");
    }
    expect(service("grafana")?.depends_on).toMatchObject({ prometheus: { condition: "service_healthy" } });
    // Named volumes the services use are declared.
    const named = ["prometheus", "grafana"].flatMap((n) => (service(n)?.volumes ?? []).filter((v) => !v.startsWith("./") && !v.startsWith("/")).map((v) => v.split(":")[0]!));
    for (const v of named) expect(Object.keys(compose().volumes ?? {})).toContain(v);
  });

  test("every bind mount of the monitoring services is read-only and points at a file or folder that exists", () => {
    const all = ["prometheus", "grafana"].flatMap((n) => binds(service(n)));
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const b of all) expect({ ...b, exists: existsSync(`${ROOT}${b.host}`) }).toEqual({ ...b, ro: true, exists: true });
  });

  test("prometheus gets its config where --config.file says and alerts.yml where rule_files says", () => {
    const p = service("prometheus");
    const command = Array.isArray(p?.command) ? p.command : (p?.command ?? "").split(/\s+/);
    const configFile = command.find((c) => c.startsWith("--config.file="))?.slice("--config.file=".length) ?? "/etc/prometheus/prometheus.yml";
    expect(containerPathOf(p, PROMETHEUS_PATH)).toBe(configFile);
    const cfg = yaml(PROMETHEUS_PATH) as PromConfig;
    expect(cfg.rule_files ?? []).toContain(containerPathOf(p, ALERTS_PATH)!);
  });

  test("grafana gets its provisioning, the dashboard where the provider looks, and the datasource the dashboard defaults to", () => {
    const g = service("grafana");
    expect(containerPathOf(g, DATASOURCES_PATH)).toBe("/etc/grafana/provisioning/datasources/prometheus.yml");
    expect(containerPathOf(g, PROVIDERS_PATH)).toBe("/etc/grafana/provisioning/dashboards/gatehouse.yml");
    const providers = yaml(PROVIDERS_PATH) as { providers?: Array<{ type?: string; options?: { path?: string } }> };
    const folder = providers.providers?.find((p) => p.type === "file")?.options?.path ?? "(none)";
    const mounted = containerPathOf(g, DASHBOARD_PATH) ?? "(not mounted)";
    expect(mounted.startsWith(`${folder.replace(/\/$/, "")}/`)).toBe(true);
    expect(statSync(`${ROOT}${DASHBOARD_PATH}`).isFile()).toBe(true);

    const ds = yaml(DATASOURCES_PATH) as { datasources?: Array<{ uid?: string; type?: string; url?: string }> };
    const prom = ds.datasources?.find((d) => d.type === "prometheus");
    expect(prom?.url).toBe("http://prometheus:9090");
    const dsVar = dashboard.templating?.list?.find((v) => v.name === "DS_PROMETHEUS");
    expect((dsVar?.current as { value?: string } | undefined)?.value).toBe(prom?.uid);
  });
});
