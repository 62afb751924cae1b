/**
 * nginx + auth_request (Gatehouse forward auth) against nginx alone, with real nginx (one
 * worker, a child on loopback ports with its own config) in front of a tiny Bun app, driven
 * by wrk with a signed-in user's cookie. Three configurations, alternating rounds:
 *   - nginx alone (proxy_pass to the app);
 *   - the README's forward-auth block (upstream with keepalive, HTTP/1.1 to Gatehouse);
 *   - the same block without keepalive/HTTP/1.1 (the README's snippet before: a new
 *     connection to Gatehouse per request).
 *   bun bench/forward-auth-nginx.ts [--seconds 8] [--connections 64] [--rounds 3]
 */
import { parseArgs } from "node:util";
import { startPostgres, startRedis, stopAll, freePort, ensureBinaries } from "../test/harness/services.ts";
import { NGINX } from "../test/harness/apt.ts";
import { readmeNginxBlock, startNginx, type NginxFixture } from "../test/security/nginx-fixture.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" }, connections: { type: "string", default: "64" }, rounds: { type: "string", default: "3" } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const root = new URL("..", import.meta.url).pathname;

if (Bun.spawnSync(["sh", "-c", "command -v wrk"]).exitCode !== 0) throw new Error("wrk is missing: apt-get install -y wrk");
await ensureBinaries();

async function waitLive(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then((r) => r.status < 500, () => false)) return;
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not answer`);
}

function wrk(url: string, headers: string[]): number {
  const out = Bun.spawnSync(["wrk", "-t", "1", "-c", String(connections), "-d", `${seconds}s`, ...headers.flatMap((h) => ["-H", h]), url]).stdout.toString();
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk printed no rate:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} non-2xx responses on ${url}: ${out}`);
  return Number(m[1]);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const withKeepalive = readmeNginxBlock();
const withoutKeepalive = withKeepalive
  .replace(/\n\s*keepalive \d+;/, "")
  .replace(/(location = \/_gatehouse_verify \{[\s\S]*?)\n\s*proxy_http_version 1\.1;\n\s*proxy_set_header Connection "";/, "$1");
const alone = "server {\n    listen 80;\n    location / {\n        proxy_pass http://app:3000;\n    }\n}\n";

const loadavg = () => Bun.file("/proc/loadavg").text().then((t) => t.split(" ").slice(0, 3).join(" "), () => "n/a");
const loadBefore = await loadavg();
const pg = await startPostgres();
const redis = await startRedis();
const procs: Array<ReturnType<typeof Bun.spawn>> = [];
const proxies: NginxFixture[] = [];
const results: Record<string, number[]> = { "nginx alone": [], "nginx + auth_request, keepalive upstream (README now)": [], "nginx + auth_request, new connection per request (README before)": [] };
try {
  const gatehousePort = await freePort();
  const appPort = await freePort();
  procs.push(Bun.spawn([`${root}node_modules/.bin/bun`, "--max-http-header-size=262144", "src/main.ts"], {
    cwd: root, stdout: "ignore", stderr: "inherit",
    env: { ...process.env, PORT: String(gatehousePort), DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: "bench-fa", WEBUI_SECRET_KEY: "bench-forward-auth-secret-0123456789ab", GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1", GATEHOUSE_LOG_LEVEL: "warn", GATEHOUSE_ACCESS_LOG: "false", ENABLE_SIGNUP: "true" },
  }));
  procs.push(Bun.spawn([`${root}node_modules/.bin/bun`, "-e", `Bun.serve({ hostname: "127.0.0.1", port: ${appPort}, fetch: () => new Response("ok\\n") })`], { stdout: "ignore", stderr: "inherit" }));
  await waitLive(`http://127.0.0.1:${gatehousePort}/livez`);
  await waitLive(`http://127.0.0.1:${appPort}/`);
  const signup = await fetch(`http://127.0.0.1:${gatehousePort}/api/v1/auths/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "b", email: "bench@example.com", password: "bench-password-1" }) });
  const token = ((await signup.json()) as { token: string }).token;
  const cookie = [`Cookie: token=${token}`];
  const configs: Array<[string, string]> = [
    ["nginx alone", alone],
    ["nginx + auth_request, keepalive upstream (README now)", withKeepalive],
    ["nginx + auth_request, new connection per request (README before)", withoutKeepalive],
  ];
  const started = new Map<string, NginxFixture>();
  for (const [name, block] of configs) {
    const n = await startNginx(block, { gatehousePort, appPort });
    proxies.push(n);
    started.set(name, n);
    wrk(`${n.baseUrl}/private`, cookie); // warm-up
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name] of configs) results[name]!.push(wrk(`${started.get(name)!.baseUrl}/private`, cookie));
  }
} finally {
  for (const n of proxies) await n.stop();
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  await stopAll();
}

const loadAfter = await loadavg();
for (const [name, xs] of Object.entries(results)) console.log(`${name}: ${median(xs).toFixed(0)} req/s`);
const base = median(results["nginx alone"]!);
const md = [
  "# Forward auth through real nginx (auth_request)",
  "",
  `nginx ${Bun.spawnSync([NGINX, "-v"]).stderr.toString().trim().replace("nginx version: ", "")} with worker_processes 1, access_log off; wrk -t1 -c${connections} -d${seconds}s on GET /private with a signed-in user's token cookie;`,
  `${rounds} alternating rounds per configuration after one warm-up each, medians. Upstream app: a one-line Bun.serve answering "ok". Gatehouse (src/main.ts,`,
  "HS256, real Postgres and Redis on loopback, access log off) answers the auth subrequests warm. Everything on the same 2-core machine, shared with wrk and other work:",
  `load average (1/5/15 min) ${loadBefore} before, ${loadAfter} after — absolute numbers are only comparable within one run.`,
  "",
  table(["configuration", "req/s", "vs nginx alone"], Object.entries(results).map(([name, xs]) => [name, median(xs).toFixed(0), (median(xs) / base).toFixed(2)])),
].join("\n");
writeResults("forward-auth-nginx", { machine: machine(), seconds, connections, rounds, loadBefore, loadAfter, results }, md);
