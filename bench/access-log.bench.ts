/**
 * What the request observer costs: the same warm authenticated request through the app's
 * fetch handler with the access log off, on at `info` (written to a real file descriptor:
 * /dev/null), and on but filtered by level (`warn`), side by side in one run (tinybench).
 *   bun bench/access-log.bench.ts
 */
import { Bench } from "tinybench";
import { Elysia } from "elysia";
import pino from "pino";
import { startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { loadConfig } from "../src/config/config.ts";
import { createLogger } from "../src/observability/logger.ts";
import { createServices, type Services } from "../src/services.ts";
import { assembleInstance, type Instance } from "../src/instance.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const pg = await startPostgres();
const redis = await startRedis();
const rows: Array<[string, number, number, number]> = [];
const started: Array<{ services: Services; instance: Instance }> = [];

async function variant(name: string, accessLog: boolean, level: string) {
  const config = loadConfig({
    DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `accesslog-${name.length}-${accessLog}-${level}`, WEBUI_SECRET_KEY: "bench-secret-key",
    GATEHOUSE_LOG_LEVEL: level, GATEHOUSE_ACCESS_LOG: String(accessLog), ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
  });
  const services = await createServices(config, createLogger(level, pino.destination({ dest: "/dev/null", sync: false })), { defaultMetrics: false });
  let instance: Instance | null = null;
  const routes = new Elysia().get("/bench/authed", async ({ request }) => {
    await instance!.auth.current.verified(request);
    return { ok: true };
  });
  instance = await assembleInstance(services, [routes]);
  started.push({ services, instance });
  const fetch = instance.gatehouse.fetch;
  const signup = await fetch(new Request("http://localhost/api/v1/auths/signup", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "b", email: `b${started.length}@example.com`, password: "pw" }) }));
  const token = ((await signup.json()) as { token: string }).token;
  const headers = { authorization: `Bearer ${token}` };
  return { name, run: async () => void (await (await fetch(new Request("http://localhost/bench/authed", { headers }))).arrayBuffer()) };
}

try {
  const variants = [
    await variant("access log off", false, "info"),
    await variant("access log on (info, to /dev/null)", true, "info"),
    await variant("access log on, level warn (line filtered)", true, "warn"),
  ];
  const bench = new Bench({ time: 2000, warmupTime: 300 });
  for (const v of variants) bench.add(v.name, v.run);
  // Three rounds, interleaved, so the shared machine's noise hits every variant.
  const samples = new Map<string, number[]>();
  for (let round = 0; round < 3; round++) {
    await bench.run();
    for (const t of bench.tasks) {
      const r = t.result as unknown as { throughput?: { mean: number } };
      samples.set(t.name, [...(samples.get(t.name) ?? []), r.throughput?.mean ?? 0]);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(samples.get(variants[0]!.name)!);
  for (const v of variants) {
    const hz = median(samples.get(v.name)!);
    rows.push([v.name, Math.round(hz), Number((1e6 / hz).toFixed(2)), Number((hz / base).toFixed(3))]);
    console.log(`${v.name}: ${Math.round(hz)} req/s, ${(1e6 / hz).toFixed(2)} µs, ratio ${(hz / base).toFixed(3)}`);
  }
  writeResults("access-log", { machine: machine(), rows }, `# Cost of the access log (in-process, warm authenticated request)\n\n` +
    `tinybench, 3 interleaved rounds of 2 s per variant, medians; real Postgres and Redis on loopback.\n\n` +
    table(["variant", "req/s", "µs/request", "vs off"], rows) + "\n");
} finally {
  for (const s of started) {
    await s.instance.stop();
    await s.services.close();
  }
  await stopAll();
}
