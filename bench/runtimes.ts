/**
 * Bun and Deno side by side, in one run, on the same Postgres, Redis and machine:
 *  - idle RSS of a booted server (bench/bench-server.ts: the real entry plus the bench routes),
 *    before and after load;
 *  - warm authenticated req/s: wrk on `/bench/authed` (the full current-user path with a warm
 *    token), rounds alternating between the runtimes so machine noise hits both;
 *  - the 2,000-stream gateway run on a pool of 5 (bench/concurrency.ts, modes gatehouse and
 *    gatehouse-deno).
 * Writes bench/results/runtimes.json and .md (and runtimes-concurrency.* from the stream run).
 *
 *   bun bench/runtimes.ts [--seconds 5] [--connections 64] [--rounds 3] [--streams 2000] [--upstream-seconds 10]
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { createDatabase, ensureBinaries, startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { RUNTIMES, runtimeCommand, startServerProcess, type Runtime, type ServerProcess } from "../test/helpers/server-process.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "64" },
    rounds: { type: "string", default: "3" },
    streams: { type: "string", default: "2000" },
    "upstream-seconds": { type: "string", default: "10" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const streams = Number(values.streams);
const upstreamSeconds = Number(values["upstream-seconds"]);
const root = new URL("..", import.meta.url).pathname;

if (Bun.spawnSync(["sh", "-c", "command -v wrk"]).exitCode !== 0) throw new Error("wrk is missing: apt-get install -y wrk");

/** Resident set of `pid`, MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

function wrk(url: string, token: string): number {
  const out = Bun.spawnSync(["wrk", "-t", "1", "-c", String(connections), "-d", `${seconds}s`, "-H", `Authorization: Bearer ${token}`, url]).stdout.toString();
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rate) throw new Error(`wrk printed no rate:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses on ${url}`);
  return Number(rate[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface RuntimeRow {
  runtime: Runtime;
  version: string;
  idleRssAfterBootMb: number;
  idleRssAfterLoadMb: number;
  authedReqPerSec: number[];
  authedReqPerSecMedian: number;
}

await ensureBinaries();
const pg = await startPostgres({ maxConnections: 100 });
const redis = await startRedis();
const rows: RuntimeRow[] = [];
const servers = new Map<Runtime, ServerProcess>();
try {
  const env = {
    DATABASE_URL: await createDatabase(pg.url, "bench_runtimes"), REDIS_URL: redis.url, REDIS_KEY_PREFIX: "bench-runtimes",
    WEBUI_SECRET_KEY: "bench-runtimes-secret", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
    GATEHOUSE_ACCESS_LOG: "false", BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
  };
  for (const rt of RUNTIMES) servers.set(rt, await startServerProcess(env, runtimeCommand(rt, "bench/bench-server.ts")));
  await Bun.sleep(3000);
  const idleAfterBoot = new Map(RUNTIMES.map((rt) => [rt, rssMb(servers.get(rt)!.proc.pid)]));
  const first = servers.get("bun")!;
  const r = await fetch(`${first.baseUrl}/api/v1/auths/signup`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "bench", email: "bench@example.com", password: "bench-password" }),
  });
  if (r.status !== 200) throw new Error(`sign-up answered ${r.status}`);
  const { token } = (await r.json()) as { token: string };
  const rates = new Map<Runtime, number[]>(RUNTIMES.map((rt) => [rt, []]));
  // One short unmeasured run per runtime warms caches and the JIT.
  for (const rt of RUNTIMES) wrk(`${servers.get(rt)!.baseUrl}/bench/authed`, token);
  for (let i = 0; i < rounds; i++) {
    for (const rt of i % 2 === 0 ? RUNTIMES : [...RUNTIMES].reverse()) {
      const rate = wrk(`${servers.get(rt)!.baseUrl}/bench/authed`, token);
      rates.get(rt)!.push(rate);
      console.log(`round ${i + 1} ${rt}: ${rate.toFixed(0)} authenticated req/s`);
    }
  }
  await Bun.sleep(3000);
  for (const rt of RUNTIMES) {
    const version = Bun.spawnSync(rt === "bun" ? [`${root}node_modules/.bin/bun`, "--version"] : [`${root}node_modules/.bin/deno`, "--version"]).stdout.toString().split("\n")[0]!.replace(/^deno /, "").replace(/ \(.*$/, "").trim();
    rows.push({
      runtime: rt, version,
      idleRssAfterBootMb: idleAfterBoot.get(rt)!,
      idleRssAfterLoadMb: rssMb(servers.get(rt)!.proc.pid),
      authedReqPerSec: rates.get(rt)!.map((x) => Math.round(x)),
      authedReqPerSecMedian: Math.round(median(rates.get(rt)!)),
    });
  }
} finally {
  for (const s of servers.values()) s.kill("SIGKILL");
  await stopAll();
}

// The stream run starts its own Postgres, Redis and fake upstream, one server at a time.
const out = "runtimes-concurrency";
const child = Bun.spawn(
  [`${root}node_modules/.bin/bun`, `${root}bench/concurrency.ts`, "--levels", String(streams), "--modes", "gatehouse,gatehouse-deno", "--users", "10", "--sessions", "50",
    "--upstream-seconds", String(upstreamSeconds), "--no-burst-row", "--out", out],
  { cwd: root, stdio: ["inherit", "inherit", "inherit"] },
);
if ((await child.exited) !== 0) throw new Error("bench/concurrency.ts failed");
const conc = JSON.parse(readFileSync(`${root}bench/results/${out}.json`, "utf8")) as { results: Array<Record<string, unknown>> };
const streamRows = conc.results.map((x) => ({
  runtime: x["mode"] === "gatehouse" ? "bun" : "deno",
  ok: x["ok"], failed: x["failed"], e2eP99Ms: x["e2eP99Ms"], firstByteP99Ms: x["firstByteP99Ms"], checkoutWaitP99Ms: x["checkoutWaitP99Ms"],
  peakActiveConnections: x["peakActiveConnections"], serverCpuSeconds: x["serverCpuSeconds"], serverPeakRssMb: x["serverPeakRssMb"],
}));

const conditions = `Machine: ${JSON.stringify(machine())}; load average at start ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")} (shared machine: compare the runtimes with each other, not with other runs). ` +
  `Real PostgreSQL and Redis on loopback. req/s: wrk -t1 -c${connections} -d${seconds}s on /bench/authed with one warm token, ${rounds} rounds alternating runtimes, after one unmeasured warm-up run each; idle RSS 3 s after boot and 3 s after load. ` +
  `Streams: ${streams} concurrent streamed chat completions through the gateway on a pool of 5 (DATABASE_POOL_SIZE=5, MAX_OVERFLOW=0), ${upstreamSeconds} s each at the fake upstream, 50 sessions of 10 users, clients spread over 1 s.`;
const md = [
  "# Bun vs Deno",
  "",
  conditions,
  "",
  table(["runtime", "version", "authenticated req/s (median)", "rounds", "idle RSS after boot MB", "idle RSS after load MB"],
    rows.map((r) => [r.runtime, r.version, r.authedReqPerSecMedian, r.authedReqPerSec.join(", "), r.idleRssAfterBootMb, r.idleRssAfterLoadMb])),
  "",
  table(["runtime", `streams ok of ${streams}`, "e2e p99 ms", "first byte p99 ms", "checkout wait p99 ms", "peak active conns", "server CPU s", "server peak RSS MB"],
    streamRows.map((s) => [s.runtime, String(s.ok), String(s.e2eP99Ms === null ? "–" : Math.round(Number(s.e2eP99Ms))), String(s.firstByteP99Ms === null ? "–" : Math.round(Number(s.firstByteP99Ms))), `≤ ${s.checkoutWaitP99Ms}`, String(s.peakActiveConnections), String(s.serverCpuSeconds), String(s.serverPeakRssMb)])),
].join("\n");
writeResults("runtimes", { name: "runtimes", conditions, machine: machine(), rows, streams: streamRows }, md);
console.log(md);
