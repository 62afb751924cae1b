/**
 * Load run: the same tiny JSON route served unauthenticated and authenticated with a warm
 * token, driven by wrk (Debian's package) on the same connections, alternating modes so
 * machine noise hits both. Reports req/s of each and the ratio (target ≥ 0.85), with the
 * revocation replica on and off.
 *   bun bench/auth-load.ts [--seconds 8] [--connections 64] [--rounds 3]
 */
import { parseArgs } from "node:util";
import { startPostgres, startRedis, stopAll, freePort, ensureBinaries } from "../test/harness/services.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" }, connections: { type: "string", default: "64" }, rounds: { type: "string", default: "3" } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const root = new URL("..", import.meta.url).pathname;

if (Bun.spawnSync(["sh", "-c", "command -v wrk"]).exitCode !== 0) {
  if (process.getuid?.() !== 0) throw new Error("wrk is missing: apt-get install -y wrk");
  Bun.spawnSync(["apt-get", "install", "-y", "wrk"], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}
await ensureBinaries();

async function startServer(env: Record<string, string>) {
  const port = await freePort();
  const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "--max-http-header-size=262144", "bench/bench-server.ts"], {
    cwd: root, env: { ...process.env, ...env, PORT: String(port), GATEHOUSE_LOG_LEVEL: "warn" }, stdout: "ignore", stderr: "inherit",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/livez`)).ok) return { proc, base };
    } catch { /* starting */ }
    await Bun.sleep(100);
  }
  throw new Error("bench server did not start");
}

async function probe(url: string, headers: string[]): Promise<string> {
  const h = new Headers(headers.map((x) => x.split(": ", 2) as [string, string]));
  const r = await fetch(url, { headers: h });
  return `${r.status} ${(await r.text()).slice(0, 200)}`;
}

function wrk(url: string, headers: string[]): number {
  const args = ["wrk", "-t", "1", "-c", String(connections), "-d", `${seconds}s`, "--latency", ...headers.flatMap((h) => ["-H", h]), url];
  const out = Bun.spawnSync(args).stdout.toString();
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk printed no rate:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses on ${url}: ${out}`);
  return Number(m[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const pg = await startPostgres();
const redis = await startRedis();
const results: Array<{ replica: boolean; open: number[]; authed: number[]; ratio: number }> = [];
try {
  for (const replica of [true, false]) {
    const { proc, base } = await startServer({
      DATABASE_URL: pg.url, REDIS_URL: redis.url, WEBUI_SECRET_KEY: "bench-secret",
      REDIS_KEY_PREFIX: `bench-${replica}`, GATEHOUSE_REVOCATION_REPLICA: String(replica), ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
    });
    const email = `bench-${replica}@example.com`;
    const signup = await fetch(`${base}/api/v1/auths/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "b", email, password: "pw" }) });
    const token = ((await signup.json()) as { token: string }).token;
    const auth = [`Authorization: Bearer ${token}`];
    // Warm up both paths (JIT, caches, connections).
    wrk(`${base}/bench/open`, auth);
    wrk(`${base}/bench/authed`, auth);
    const open: number[] = [];
    const authed: number[] = [];
    for (let r = 0; r < rounds; r++) {
      open.push(wrk(`${base}/bench/open`, auth));
      authed.push(wrk(`${base}/bench/authed`, auth));
    }
    results.push({ replica, open, authed, ratio: median(authed) / median(open) });
    console.log(`replica=${replica}: open ${median(open).toFixed(0)} req/s, authed ${median(authed).toFixed(0)} req/s, ratio ${(median(authed) / median(open)).toFixed(3)}`);
    proc.kill("SIGTERM");
    await proc.exited;
  }
} finally {
  await stopAll();
}

const md = [
  "# Authenticated vs unauthenticated throughput (wrk)",
  "",
  `wrk -t1 -c${connections} -d${seconds}s, ${rounds} alternating rounds per mode, medians; Gatehouse on Bun with real Postgres and Redis on loopback, 2 cores shared with wrk.`,
  "The same tiny JSON route; the authenticated one runs the full current-user path (token verify with cache, revocation check, user cache).",
  "",
  table(["revocation replica", "open req/s", "authenticated req/s", "ratio"], results.map((r) => [r.replica ? "on" : "off (Redis GET per request)", median(r.open).toFixed(0), median(r.authed).toFixed(0), r.ratio.toFixed(3)])),
].join("\n");
writeResults("auth-load", { machine: machine(), seconds, connections, rounds, results }, md);
