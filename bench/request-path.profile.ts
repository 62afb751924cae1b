/**
 * Where a request's time goes, layer by layer, in process (no sockets): the same open and warm
 * authenticated routes through Elysia alone (`app.handle`), through every wrapper with the access
 * log off, and with it on at `info` (to /dev/null), interleaved in 3 rounds; medians of µs/request.
 *   bun bench/request-path.profile.ts [--ms 1500]
 */
import { parseArgs } from "node:util";
import { Elysia } from "elysia";
import pino from "pino";
import { startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { loadConfig } from "../src/config/config.ts";
import { createLogger } from "../src/observability/logger.ts";
import { createServices, type Services } from "../src/services.ts";
import { assembleInstance, type Instance } from "../src/instance.ts";
import { machine, table, writeResults } from "./lib/results.ts";
import { newRequestScope, withRequestScope } from "../src/observability/request-scope.ts";
import { withDbAccounting } from "../src/http/request-accounting.ts";

const { values } = parseArgs({ options: { ms: { type: "string", default: "1500" } } });
const budgetMs = Number(values.ms);
const loadAt = () => Bun.spawnSync(["cat", "/proc/loadavg"]).stdout.toString().split(" ").slice(0, 3).join(" ");
const loadBefore = loadAt();
const pg = await startPostgres();
const redis = await startRedis();
const started: Array<{ services: Services; instance: Instance }> = [];

async function instanceWith(accessLog: boolean) {
  const config = loadConfig({
    DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `rpp-${accessLog}`, WEBUI_SECRET_KEY: "bench-secret-key",
    GATEHOUSE_LOG_LEVEL: "info", GATEHOUSE_ACCESS_LOG: String(accessLog), ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
  });
  const services = await createServices(config, createLogger("info", pino.destination({ dest: "/dev/null", sync: true })), { defaultMetrics: false });
  let instance: Instance | null = null;
  const routes = new Elysia()
    .get("/bench/open", () => ({ ok: true }))
    .get("/bench/authed", async ({ request }) => {
      await instance!.auth.current.verified(request);
      return { ok: true };
    });
  instance = await assembleInstance(services, [routes]);
  started.push({ services, instance });
  const signup = await instance.gatehouse.fetch(new Request("http://localhost/api/v1/auths/signup", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "b", email: `b${started.length}@example.com`, password: "pw" }) }));
  const token = ((await signup.json()) as { token: string }).token;
  return { instance, token };
}

type Variant = { name: string; run: () => Promise<void> };
const variants: Variant[] = [];
try {
  const off = await instanceWith(false);
  const on = await instanceWith(true);
  for (const [path, auth] of [["/bench/open", false], ["/bench/authed", true]] as const) {
    const h = (token: string) => (auth ? { authorization: `Bearer ${token}` } : undefined);
    variants.push({ name: `${path}: Elysia app.handle only`, run: async () => void (await (await off.instance.gatehouse.app.handle(new Request(`http://localhost${path}`, { headers: h(off.token) }))).arrayBuffer()) });
    const app = off.instance.gatehouse.app;
    const scoped = (req: Request) => withRequestScope(newRequestScope("r"), () => app.handle(req));
    variants.push({ name: `${path}: app.handle in a request scope (ALS)`, run: async () => void (await (await scoped(new Request(`http://localhost${path}`, { headers: h(off.token) }))).arrayBuffer()) });
    const db = withDbAccounting((req) => app.handle(req), off.instance.gatehouse === undefined ? null as never : (started[0]!.services.dbMetrics));
    variants.push({ name: `${path}: app.handle + db accounting`, run: async () => void (await (await db(new Request(`http://localhost${path}`, { headers: h(off.token) }))).arrayBuffer()) });
    variants.push({ name: `${path}: full fetch, access log off`, run: async () => void (await (await off.instance.gatehouse.fetch(new Request(`http://localhost${path}`, { headers: h(off.token) }))).arrayBuffer()) });
    variants.push({ name: `${path}: full fetch, access log on (info)`, run: async () => void (await (await on.instance.gatehouse.fetch(new Request(`http://localhost${path}`, { headers: h(on.token) }))).arrayBuffer()) });
  }
  const samples = new Map<string, number[]>();
  for (let round = 0; round < 3; round++) {
    for (const v of variants) {
      for (let i = 0; i < 2000; i++) await v.run(); // warm
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < budgetMs) {
        for (let i = 0; i < 200; i++) await v.run();
        n += 200;
      }
      samples.set(v.name, [...(samples.get(v.name) ?? []), ((performance.now() - t0) * 1000) / n]);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = variants.map((v) => [v.name, median(samples.get(v.name)!).toFixed(2)]);
  console.log(table(["variant", "µs/request (median of 3)"], rows));
  writeResults("request-path-profile", { machine: machine(), budgetMs, loadBefore, loadAfter: loadAt(), samples: Object.fromEntries(samples) }, [
    "# Where a request's time goes (in process, no sockets)",
    "",
    `The same open and warm authenticated routes through Elysia alone (\`app.handle\`), in a request scope, with DB accounting, through the whole wrapper stack with the access log off, and on at \`info\` (pino destination /dev/null, fd-backed, so batched). ${budgetMs} ms per variant per round, 3 interleaved rounds, medians. One token (warm caches). Load average ${loadBefore} before, ${loadAt()} after, on 2 cores shared with other developers' test runs: differences under ≈ 1 µs are noise.`,
    "",
    table(["variant", "µs/request (median of 3)"], rows),
  ].join("\n"));
} finally {
  for (const s of started) {
    await s.instance.stop();
    await s.services.close();
  }
  await stopAll();
}
