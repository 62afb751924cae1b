/**
 * Concurrency benchmark (issue 6): many concurrent LLM streams through Gatehouse on a pool of 5,
 * against a baseline that holds one connection per chat request (bench/baseline-hold.ts), in the
 * same run, on the same Postgres, Redis and fake upstream.
 *
 *   npm run bench:concurrency -- [--levels 5,50,500,2000] [--upstream-seconds 10] [--tokens 20]
 *                                [--users 10] [--sessions <max level>] [--modes gatehouse,baseline] [--out concurrency]
 *                                [--processes 1,2] [--no-warm] [--direct-users] [--log-level error]
 *                                [--upstream-processes 1] [--env NAME=value ...]
 *                                [--listen-backlogs off,auto] [--upstream-listen-backlog auto]
 *
 * `--processes 1,2` runs every gatehouse row once per value of GATEHOUSE_PROCESSES (side by side
 * in one run); the server gets GATEHOUSE_METRICS_PORT=P, and /metrics is scraped from P … P+N-1
 * (one port per process) and summed. `--no-warm` skips the warm-up request per session (cold
 * user, token and model caches, so authentication uses the pool). `--direct-users` inserts the
 * users straight into Postgres with one precomputed argon2id hash and mints their session
 * tokens (HS256 with WEBUI_SECRET_KEY, claims as a sign-in issues them), instead of one
 * argon2id sign-up per user through the API. `--upstream-processes K` runs the fake upstream as K
 * processes on one port (reusePort; stats combined from each one's own port). `--env` passes extra
 * variables to the server. `--listen-backlogs off,auto` runs every gatehouse row once per
 * GATEHOUSE_LISTEN_BACKLOG value (side by side; default: the server's own default only), and
 * `--upstream-listen-backlog` is the fake upstream's (default auto: net.core.somaxconn, so the
 * stand-in upstream's accept queue is not the one that overflows). Each row also records the load average before and after, and the
 * listeners' accept-queue peaks (`ss -ltn`, every 100 ms) at the server's and the upstream's port.
 *
 * For each level and mode: a fresh server process (DATABASE_POOL_SIZE=5, DATABASE_POOL_MAX_OVERFLOW=0,
 * DATABASE_POOL_TIMEOUT=5), caches warmed with one request per session, then `level` clients at
 * once, each making one streamed completion that lasts `--upstream-seconds` at the fake upstream.
 * Clients take signed-in tokens round-robin from `--sessions` sign-ins (each an argon2id
 * verification, ≈ 0.2 s of a core, so 2,000 distinct sessions cost minutes). Recorded: successes,
 * failures by kind, end-to-end p50/p99 and first-byte p99 (of successful streams), checkout-wait
 * p99 (per request, and over every checkout) and peak active connections from /metrics, server
 * CPU seconds and peak RSS, and the upstream's own duration. Writes bench/results/<out>.json,
 * .md and .svg.
 */
import { parseArgs } from "node:util";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import postgres from "postgres";
import { createDatabase, ensureBinaries, freePort, startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { hashPassword } from "../src/crypto/password.ts";
import { signHs256 } from "../src/crypto/jwt/jwt-hs256.ts";
import { entryCommand, startServerProcess, type ServerProcess } from "../test/helpers/server-process.ts";
import { machine, table, writeResults } from "./lib/results.ts";
import { freeConsecutivePorts } from "./lib/ports.ts";
import type { FakeLlmStats } from "./fake-llm.ts";

const root = new URL("..", import.meta.url).pathname;
const bun = `${root}node_modules/.bin/bun`;

// Bun's fetch() keeps at most BUN_CONFIG_MAX_HTTP_REQUESTS (default 256) requests in flight, read
// at process start; the load generator needs thousands, so re-run this script with it raised.
if (!process.env["BUN_CONFIG_MAX_HTTP_REQUESTS"]) {
  const child = Bun.spawn([bun, import.meta.path, ...process.argv.slice(2)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "65535" },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exit(await child.exited);
}

const { values } = parseArgs({
  options: {
    levels: { type: "string", default: "5,50,500,2000" },
    "upstream-seconds": { type: "string", default: "10" },
    tokens: { type: "string", default: "20" },
    "first-token-ms": { type: "string", default: "500" },
    users: { type: "string", default: "10" },
    sessions: { type: "string" },
    modes: { type: "string", default: "gatehouse,baseline" },
    "ramp-ms": { type: "string", default: "1000" },
    "burst-row": { type: "boolean", default: true },
    out: { type: "string", default: "concurrency" },
    processes: { type: "string", default: "1" },
    warm: { type: "boolean", default: true },
    "direct-users": { type: "boolean", default: false },
    "log-level": { type: "string", default: "error" },
    // Extra server variables, K=V, repeatable (e.g. --env GATEHOUSE_DB_MAX_WAITERS=4000).
    env: { type: "string", multiple: true, default: [] },
    // Fake upstream processes sharing its port with SO_REUSEPORT (each its own accept queue).
    "upstream-processes": { type: "string", default: "1" },
    // GATEHOUSE_LISTEN_BACKLOG values: every gatehouse row runs once per value (unset: the server's default).
    "listen-backlogs": { type: "string" },
    "upstream-listen-backlog": { type: "string", default: "auto" },
  },
  // --no-burst-row
  allowNegative: true,
});
const MODES: readonly Mode[] = ["gatehouse", "gatehouse-deno", "baseline"];
const levels = values.levels!.split(",").map(Number);
const upstreamSeconds = Number(values["upstream-seconds"]);
const tokensPerAnswer = Number(values.tokens);
const firstTokenMs = Number(values["first-token-ms"]);
const userCount = Number(values.users);
/** Distinct signed-in sessions; by default one per client at the highest level. */
const sessionCount = Math.max(userCount, Number(values.sessions ?? Math.max(...values.levels!.split(",").map(Number))));
const rampMs = Number(values["ramp-ms"]);
const modes = values.modes!.split(",").map((m) => m.trim()) as Mode[];
/** GATEHOUSE_PROCESSES values: every gatehouse row runs once per value. */
const processCounts = values.processes!.split(",").map(Number);
for (const n of processCounts) if (!Number.isInteger(n) || n < 1) throw new Error("--processes takes positive integers (GATEHOUSE_PROCESSES values)");
const warm = values.warm!;
/** GATEHOUSE_LISTEN_BACKLOG per gatehouse row; null: not set (the server's default). */
const listenBacklogs: (string | null)[] = values["listen-backlogs"]?.split(",").map((v) => v.trim()) ?? [null];
const upstreamListenBacklog = values["upstream-listen-backlog"]!;
const directUsers = values["direct-users"]!;
const logLevel = values["log-level"]!;
const SECRET = "bench-concurrency-secret";
const extraEnv: Record<string, string> = Object.fromEntries(values.env!.map((kv) => {
  const at = kv.indexOf("=");
  if (at < 1) throw new Error(`--env takes NAME=value, got ${kv}`);
  return [kv.slice(0, at), kv.slice(at + 1)];
}));
for (const n of [...levels, upstreamSeconds, tokensPerAnswer, userCount, sessionCount]) {
  if (!Number.isFinite(n) || n <= 0) throw new Error("--levels, --upstream-seconds, --tokens, --users and --sessions take positive numbers");
}
if (!Number.isFinite(rampMs) || rampMs < 0) throw new Error("--ramp-ms takes a number of milliseconds (0: all at once)");
for (const m of modes) if (!MODES.includes(m)) throw new Error(`unknown mode ${m} (${MODES.join(", ")})`);

/** `gatehouse` on Bun (src/main.ts), `gatehouse-deno` on Deno (src/main.deno.ts), or the hold-a-connection baseline. */
type Mode = "gatehouse" | "gatehouse-deno" | "baseline";

interface RunResult {
  mode: Mode;
  /** GATEHOUSE_PROCESSES of the server (1 for the baseline). */
  processes: number;
  /** GATEHOUSE_LISTEN_BACKLOG the server was given (null: unset, its default). */
  listenBacklog: string | null;
  /** Whether every session made one request before the run (warm caches). */
  warm: boolean;
  /** Load average (1/5/15 min) just before and just after the run. */
  loadBefore: string;
  loadAfter: string;
  concurrency: number;
  /** Clients started evenly over this many ms (0: all at once). */
  rampMs: number;
  ok: number;
  failed: number;
  successRate: number;
  failures: Record<string, number>;
  /** Of successful streams, ms. */
  e2eP50Ms: number | null;
  e2eP99Ms: number | null;
  firstByteP99Ms: number | null;
  /**
   * From /metrics, over the run only (histograms scraped before and after): the upper bound of
   * the bucket holding the 99th percentile, ms — "p99 ≤ this". Buckets start at 0.5 ms.
   */
  requestWaitP99Ms: number | null;
  checkoutWaitP99Ms: number | null;
  /** Checkouts made during the run (every op). */
  checkouts: number;
  /** Per op: checkouts during the run and the bucket bound of their p99 wait (ms). */
  checkoutsByOp: Record<string, OpCheckouts>;
  /** Share of the run's checkouts (every op) that waited at most 5 ms (the issue's target), 0–1. */
  checkoutsWithin5Ms: number | null;
  checkoutTimeouts: number;
  checkoutRejected: number;
  /** `gatehouse_db_pool_active_peak` (since the server started; the highest of any process) before and after the run. */
  peakActiveBeforeRun: number;
  peakActiveConnections: number;
  serverCpuSeconds: number;
  /**
   * Where the host's CPU went during the run, in core-seconds: the server's processes, the fake
   * upstream's, this load generator's own, and the rest of the host (busy time from /proc/stat
   * minus those three: Postgres, Redis and whatever else runs); `capacity` = cores × wall time.
   */
  cpuSplit: CpuSplit;
  /** The same over the connect burst only: from the first client's start to the ramp's end + 1 s (the first-byte target). */
  cpuSplitBurst: CpuSplit;
  serverPeakRssMb: number;
  upstream: FakeLlmStats["durationMs"];
  wallSeconds: number;
  /** Kernel TcpExtListenOverflows during the run (host-wide): connections a full accept queue dropped. */
  listenOverflows: number;
  /**
   * Listeners' accept queues during the run, sampled with `ss -ltn` every 100 ms: per listening
   * socket (several with reusePort) the highest queue length seen and the backlog it is capped at,
   * for the server's port and the fake upstream's — host-wide overflows could be either's.
   */
  acceptQueues: { server: QueueSample[]; upstream: QueueSample[] };
}

/** Core-seconds per consumer over a window, and the window's capacity (cores × its wall time). */
interface CpuSplit {
  server: number;
  upstream: number;
  loadGenerator: number;
  rest: number;
  capacity: number;
}

interface QueueSample {
  peak: number;
  backlog: number;
}

const POOL_ENV = { DATABASE_POOL_SIZE: "5", DATABASE_POOL_MAX_OVERFLOW: "0", DATABASE_POOL_TIMEOUT: "5" };
const MODEL = "fake-gpt";
const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

await ensureBinaries();
const pg = await startPostgres({ maxConnections: 100 });
const redis = await startRedis();
const upstreamProcesses = Number(values["upstream-processes"]);
if (!Number.isInteger(upstreamProcesses) || upstreamProcesses < 1) throw new Error("--upstream-processes takes a positive integer");
const fakePort = await freePort();
// One fake upstream, or several on one port (reusePort), each with its own stats port.
const upstreamStatsPort = upstreamProcesses > 1 ? await freeConsecutivePorts(upstreamProcesses) : null;
const fakeProcs = Array.from({ length: upstreamProcesses }, (_, i) => Bun.spawn(
  [bun, `${root}bench/fake-llm.ts`, "--port", String(fakePort), "--seconds", String(upstreamSeconds), "--tokens", String(tokensPerAnswer), "--first-token-ms", String(firstTokenMs),
    "--listen-backlog", upstreamListenBacklog,
    ...(upstreamStatsPort === null ? [] : ["--reuse-port", "--stats-port", String(upstreamStatsPort + i)])],
  { cwd: root, env: { ...process.env }, stdout: "ignore", stderr: "inherit" },
));
const upstreamStatsUrls = upstreamStatsPort === null ? [`http://127.0.0.1:${fakePort}`] : fakeProcs.map((_, i) => `http://127.0.0.1:${upstreamStatsPort + i}`);
const fakeUrl = `http://127.0.0.1:${fakePort}/v1`;
const results: RunResult[] = [];

try {
  await waitUntil("the fake upstream", async () => (await fetch(`${fakeUrl}/models`)).ok);
  for (const u of upstreamStatsUrls) await waitUntil(`the fake upstream's stats at ${u}`, async () => (await fetch(`${u}/stats`)).ok);
  const dbUrl = await createDatabase(pg.url, "bench_concurrency");
  const baseEnv: Record<string, string> = {
    ...POOL_ENV,
    DATABASE_URL: dbUrl,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: "bench-concurrency",
    WEBUI_SECRET_KEY: SECRET,
    ENABLE_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
    OPENAI_API_BASE_URL: fakeUrl,
    OPENAI_API_KEY: "sk-fake",
    BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
    GATEHOUSE_LOG_LEVEL: logLevel,
    GATEHOUSE_SHUTDOWN_TIMEOUT_MS: "5000",
    // Thousands of streams from a handful of users: the per-user cap would measure itself.
    GATEHOUSE_GATEWAY_MAX_STREAMS_PER_USER: "0",
    ...extraEnv,
  };
  // Users and sessions are made on a server of their own, so every measured server starts fresh.
  const setup = await startServer("gatehouse", baseEnv, 1);
  let tokens: string[];
  try {
    tokens = directUsers ? await createUsersDirectly(setup.baseUrl, dbUrl) : await createUsers(setup.baseUrl);
  } finally {
    await stopServer(setup);
  }
  const plan: Array<{ mode: Mode; level: number; ramp: number; processes: number; backlog: string | null }> = levels.flatMap((level) =>
    modes.flatMap((mode) => (mode === "baseline" ? [1] : processCounts).flatMap((processes) =>
      (mode === "baseline" ? [null] : listenBacklogs).map((backlog) => ({ mode, level, ramp: rampMs, processes, backlog })))));
  // One extra row: the highest level started all at once, to show what a connection burst costs.
  if (values["burst-row"] && rampMs > 0 && modes.includes("gatehouse")) plan.push({ mode: "gatehouse", level: Math.max(...levels), ramp: 0, processes: processCounts[0]!, backlog: listenBacklogs[0]! });
  for (const { mode, level, ramp, processes, backlog } of plan) {
    const server = await startServer(mode, backlog === null ? baseEnv : { ...baseEnv, GATEHOUSE_LISTEN_BACKLOG: backlog }, processes);
    try {
      const r = { ...await runLevel(mode, level, server, tokens, ramp), listenBacklog: backlog };
      results.push(r);
      console.log(
        `${mode.padEnd(9)} ×${processes}${backlog === null ? "" : ` backlog ${backlog}`} ${String(level).padStart(5)} streams (ramp ${ramp} ms, load ${r.loadBefore} → ${r.loadAfter}): ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; ` +
          `e2e p99 ${fmt(r.e2eP99Ms)} ms (upstream p99 ${r.upstream.p99} ms), first byte p99 ${fmt(r.firstByteP99Ms)} ms, ` +
          `checkout wait p99 ≤ ${fmt(r.checkoutWaitP99Ms)} ms ${JSON.stringify(r.checkoutsByOp)}, peak active ${r.peakActiveConnections}, cpu ${r.serverCpuSeconds.toFixed(1)} s, rss ${r.serverPeakRssMb} MB, listen overflows ${r.listenOverflows}, accept queue peaks ${JSON.stringify(r.acceptQueues)}`,
      );
    } finally {
      await stopServer(server);
    }
  }
} finally {
  for (const p of fakeProcs) p.kill("SIGTERM");
  await Promise.race([Promise.all(fakeProcs.map((p) => p.exited)), Bun.sleep(3000)]);
  await stopAll();
}

writeOutputs(results);

// ------------------------------------------------------------------------------------------

/** A started server: the process (a supervisor when processes > 1) and where its /metrics are. */
interface BenchServer extends ServerProcess {
  processes: number;
  /** One /metrics URL per server process. */
  metricsUrls: string[];
}

async function startServer(mode: Mode, env: Record<string, string>, processes: number): Promise<BenchServer> {
  const argv = mode === "gatehouse" ? entryCommand("bun")
    : mode === "gatehouse-deno" ? entryCommand("deno")
    : [bun, "--max-http-header-size=262144", "bench/baseline-hold.ts"];
  if (mode === "baseline") {
    const s = await startServerProcess(env, argv);
    return Object.assign(s, { processes: 1, metricsUrls: [`${s.baseUrl}/metrics`] });
  }
  // Process i serves /metrics on P + i: the main port's /metrics answers from whichever process got the connection.
  const metricsPort = await freeConsecutivePorts(processes);
  const s = await startServerProcess({ ...env, GATEHOUSE_PROCESSES: String(processes), GATEHOUSE_METRICS_PORT: String(metricsPort) }, argv);
  const metricsUrls = Array.from({ length: processes }, (_, i) => `http://127.0.0.1:${metricsPort + i}/metrics`);
  // /livez answered from one child; wait until every child serves its metrics port.
  for (const u of metricsUrls) await waitUntil(`metrics at ${u}`, async () => (await fetch(u)).ok);
  return Object.assign(s, { processes, metricsUrls });
}

/** Every server process's /metrics text, concatenated (samples of each process carry its `process` label). */
async function scrape(s: BenchServer): Promise<string> {
  return (await Promise.all(s.metricsUrls.map(async (u) => (await fetch(u)).text()))).join("\n");
}

/** The server's process ids: the started process and (for a supervisor) its children. */
function processTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...children.flatMap(processTree)];
  } catch {
    return [pid];
  }
}

async function stopServer(s: ServerProcess): Promise<void> {
  // Read before the signal: a supervisor's children are gone from /proc once it has exited.
  const pids = processTree(s.proc.pid);
  s.kill("SIGTERM");
  // A supervisor waits for its children's drain (GATEHOUSE_SHUTDOWN_TIMEOUT_MS) plus 5 s.
  const exited = await Promise.race([s.exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
  if (!exited) {
    for (const pid of pids.reverse()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await s.exited;
  }
}

/**
 * Signs up an admin and `userCount - 1` users, grants the model to everyone, then signs in until
 * there are `sessionCount` sessions; returns their tokens (clients use them round-robin).
 */
async function createUsers(base: string): Promise<string[]> {
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const tokens: string[] = [];
  for (let i = 0; i < userCount; i++) {
    const r = await post("/api/v1/auths/signup", { name: `user${i}`, email: `user${i}@bench.example`, password: `bench-password-${i}` });
    if (r.status !== 200) throw new Error(`sign-up ${i} answered ${r.status}: ${await r.text()}`);
    tokens.push(((await r.json()) as { token: string }).token);
  }
  const g = await post("/api/v1/gateway/model-access", { user_id: "*", model_id: MODEL }, tokens[0]);
  if (g.status !== 200) throw new Error(`grant answered ${g.status}`);
  let next = tokens.length;
  const started = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < sessionCount) {
      const u = next++ % userCount;
      const r = await post("/api/v1/auths/signin", { email: `user${u}@bench.example`, password: `bench-password-${u}` });
      if (r.status !== 200) throw new Error(`sign-in answered ${r.status}: ${await r.text()}`);
      tokens.push(((await r.json()) as { token: string }).token);
    }
  }));
  console.log(`${tokens.length} signed-in sessions of ${userCount} users ready (${Math.round((performance.now() - started) / 1000)} s of sign-ins)`);
  return tokens;
}

/**
 * Signs up the admin through the API (its sign-up grants the model to everyone), then inserts
 * `userCount - 1` users straight into Postgres (`user` + `auth`, one argon2id hash computed once
 * for all) and mints `sessionCount` session tokens for them round-robin, as a sign-in would sign
 * them (HS256 with WEBUI_SECRET_KEY, `id`/`jti`/`iat`/`exp`). Skips 2,000 argon2id hashes through
 * the API, which the measured run does not exercise anyway (its clients present tokens).
 */
async function createUsersDirectly(base: string, dbUrl: string): Promise<string[]> {
  const headers = { "content-type": "application/json" };
  const r = await fetch(`${base}/api/v1/auths/signup`, { method: "POST", headers, body: JSON.stringify({ name: "user0", email: "user0@bench.example", password: "bench-password-0" }) });
  if (r.status !== 200) throw new Error(`admin sign-up answered ${r.status}: ${await r.text()}`);
  const admin = (await r.json()) as { token: string; id: string };
  const g = await fetch(`${base}/api/v1/gateway/model-access`, { method: "POST", headers: { ...headers, authorization: `Bearer ${admin.token}` }, body: JSON.stringify({ user_id: "*", model_id: MODEL }) });
  if (g.status !== 200) throw new Error(`grant answered ${g.status}`);
  const started = performance.now();
  const hash = await hashPassword("bench-password");
  const now = Math.floor(Date.now() / 1000);
  const ids = [admin.id, ...Array.from({ length: userCount - 1 }, () => crypto.randomUUID())];
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = ids.slice(1).map((id, k) => ({ id, email: `user${k + 1}@bench.example`, name: `user${k + 1}` }));
    for (let at = 0; at < rows.length; at += 500) {
      const chunk = rows.slice(at, at + 500);
      await sql.begin(async (tx) => {
        await tx`insert into auth ${tx(chunk.map((u) => ({ id: u.id, email: u.email, password: hash, active: true })))}`;
        await tx`insert into "user" ${tx(chunk.map((u) => ({ id: u.id, email: u.email, name: u.name, role: "user", profile_image_url: "/user.png", last_active_at: now, created_at: now, updated_at: now })))}`;
      });
    }
  } finally {
    await sql.end();
  }
  const tokens = await Promise.all(Array.from({ length: sessionCount }, (_, i) =>
    signHs256(SECRET, { id: ids[i % ids.length]!, jti: crypto.randomUUID(), iat: now, exp: now + 24 * 3600 })));
  console.log(`${userCount} users (${userCount - 1} inserted in Postgres with one argon2id hash) and ${tokens.length} minted session tokens ready (${Math.round(performance.now() - started)} ms)`);
  return tokens;
}

async function runLevel(mode: Mode, level: number, server: BenchServer, tokens: string[], ramp: number): Promise<Omit<RunResult, "listenBacklog">> {
  // Warm the caches a running deployment has warm (verified tokens, revocation replica, user,
  // model access, model list): one request per session, one at a time, so that the pool's
  // peak-active gauge before the run says what boot and warm-up needed. With several processes
  // each session goes 2×N times over new connections, which the kernel spreads over them.
  if (warm) {
    const repeat = server.processes > 1 ? 2 * server.processes : 1;
    for (const t of tokens) {
      for (let k = 0; k < repeat; k++) {
        const headers: Record<string, string> = { authorization: `Bearer ${t}`, ...(repeat > 1 ? { connection: "close" } : {}) };
        const r = await fetch(`${server.baseUrl}/api/models`, { headers });
        if (r.status !== 200) throw new Error(`warm-up answered ${r.status}`);
      }
    }
  }
  for (const u of upstreamStatsUrls) await fetch(`${u}/stats/reset`, { method: "POST" });
  await Bun.sleep(200);
  const metricsBefore = await scrape(server);

  const pids = processTree(server.proc.pid);
  const cpuTotal = () => pids.reduce((a, p) => a + cpuSeconds(p), 0);
  const rssTotal = () => pids.reduce((a, p) => a + rssMb(p), 0);
  const cpuBefore = cpuTotal();
  const cpuNow = (): CpuSnapshot => ({
    server: cpuTotal(),
    upstream: fakeProcs.reduce((a, p) => a + cpuSeconds(p.pid), 0),
    loadGenerator: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    host: hostBusySeconds(),
    at: performance.now(),
  });
  const cpuStart = cpuNow();
  let cpuBurstEnd: CpuSnapshot | null = null;
  const burstTimer = setTimeout(() => (cpuBurstEnd = cpuNow()), ramp + 1000);
  let peakRss = rssTotal();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssTotal())), 200);
  const loadBefore = loadavg().map((x) => x.toFixed(2)).join(" ");
  const wallStart = performance.now();
  const overflowsBefore = listenOverflows();
  const queues = sampleAcceptQueues([server.port, fakePort]);
  const outcomes = await Promise.all(Array.from({ length: level }, async (_, i) => {
    if (ramp > 0) await Bun.sleep((i / level) * ramp);
    return oneStream(server.baseUrl, tokens[i % tokens.length]!, i);
  }));
  const overflows = listenOverflows() - overflowsBefore;
  const acceptQueues = await queues.stop();
  const wallSeconds = (performance.now() - wallStart) / 1000;
  clearInterval(sampler);
  const serverCpuSeconds = cpuTotal() - cpuBefore;
  const cpuEnd = cpuNow();
  clearTimeout(burstTimer);
  const loadAfter = loadavg().map((x) => x.toFixed(2)).join(" ");

  // Usage rows are written just behind the streams; let them land before reading the metrics.
  await Bun.sleep(500);
  const metrics = await scrape(server);
  const upstream = await upstreamStats();

  const ok = outcomes.filter((o) => o.kind === "ok");
  const failures: Record<string, number> = {};
  for (const o of outcomes) if (o.kind !== "ok") failures[o.kind] = (failures[o.kind] ?? 0) + 1;
  const route = "/api/chat/completions";
  return {
    mode,
    processes: server.processes,
    warm,
    loadBefore,
    loadAfter,
    concurrency: level,
    rampMs: ramp,
    ok: ok.length,
    failed: level - ok.length,
    successRate: ok.length / level,
    failures,
    e2eP50Ms: quantile(ok.map((o) => o.totalMs), 0.5),
    e2eP99Ms: quantile(ok.map((o) => o.totalMs), 0.99),
    firstByteP99Ms: quantile(ok.map((o) => o.firstByteMs!), 0.99),
    requestWaitP99Ms: histogramQuantile(metricsBefore, metrics, "gatehouse_db_request_wait_seconds", 0.99, { route }),
    checkoutWaitP99Ms: histogramQuantile(metricsBefore, metrics, "gatehouse_db_checkout_wait_seconds", 0.99),
    checkouts: metricValue(metrics, "gatehouse_db_checkout_wait_seconds_count", true) - metricValue(metricsBefore, "gatehouse_db_checkout_wait_seconds_count", true),
    checkoutsByOp: byOp(metricsBefore, metrics),
    checkoutsWithin5Ms: histogramShareWithin(metricsBefore, metrics, "gatehouse_db_checkout_wait_seconds", 0.005),
    checkoutTimeouts: metricValue(metrics, "gatehouse_db_checkout_timeouts_total", true) - metricValue(metricsBefore, "gatehouse_db_checkout_timeouts_total", true),
    checkoutRejected: metricValue(metrics, "gatehouse_db_checkout_rejected_total", true) - metricValue(metricsBefore, "gatehouse_db_checkout_rejected_total", true),
    peakActiveBeforeRun: metricMax(metricsBefore, "gatehouse_db_pool_active_peak"),
    peakActiveConnections: metricMax(metrics, "gatehouse_db_pool_active_peak"),
    serverCpuSeconds: round(serverCpuSeconds, 2),
    cpuSplit: cpuSplit(cpuStart, cpuEnd),
    cpuSplitBurst: cpuSplit(cpuStart, cpuBurstEnd ?? cpuEnd),
    serverPeakRssMb: Math.round(peakRss),
    upstream: upstream.durationMs,
    wallSeconds: round(wallSeconds, 1),
    listenOverflows: overflows,
    acceptQueues: { server: acceptQueues.get(server.port) ?? [], upstream: acceptQueues.get(fakePort) ?? [] },
  };
}

/** The fake upstream's stats; over several processes, durations combined from each one's raw list. */
async function upstreamStats(): Promise<FakeLlmStats> {
  const all = await Promise.all(upstreamStatsUrls.map(async (u) => (await (await fetch(`${u}/stats`)).json()) as FakeLlmStats & { durations?: number[] }));
  if (all.length === 1) return all[0]!;
  const durations = all.flatMap((s) => s.durations ?? []);
  return { ...all[0]!, durationMs: { count: durations.length, p50: quantile(durations, 0.5) ?? 0, p99: quantile(durations, 0.99) ?? 0, max: round(Math.max(0, ...durations), 1) } };
}

interface StreamOutcome {
  kind: string;
  totalMs: number;
  firstByteMs: number | null;
}

async function oneStream(base: string, token: string, i: number): Promise<StreamOutcome> {
  const t0 = performance.now();
  let firstByteMs: number | null = null;
  try {
    const res = await fetch(`${base}/api/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: "user", content: `benchmark stream ${i}` }] }),
      signal: AbortSignal.timeout(upstreamSeconds * 3000 + 60_000),
    });
    if (res.status !== 200) {
      const text = await res.text();
      return { kind: failureKind(res.status, text), totalMs: performance.now() - t0, firstByteMs };
    }
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let tail = "";
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      firstByteMs ??= performance.now() - t0;
      tail = (tail + decoder.decode(r.value, { stream: true })).slice(-64);
    }
    const totalMs = performance.now() - t0;
    return { kind: tail.endsWith("data: [DONE]\n\n") ? "ok" : "incomplete stream", totalMs, firstByteMs };
  } catch (e) {
    return { kind: (e as Error).name === "TimeoutError" ? "client timeout" : "network error", totalMs: performance.now() - t0, firstByteMs };
  }
}

function failureKind(status: number, body: string): string {
  let detail = "";
  try {
    detail = String((JSON.parse(body) as { detail?: unknown }).detail ?? "");
  } catch { /* not JSON */ }
  if (/no connection became available/i.test(detail)) return `${status} checkout timeout`;
  if (/too many requests are waiting/i.test(detail)) return `${status} pool saturated`;
  return `${status}`;
}

// ------------------------------------------------------------------------------------------ numbers

function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!, 1);
}

/**
 * The 99th percentile of a histogram's observations made between two scrapes, summed over every
 * label set matching `labels`, as the upper bound of the bucket that holds it (ms). Buckets say
 * only "at most", so interpolating inside one would invent precision.
 */
function histogramQuantile(before: string, after: string, name: string, q: number, labels: Record<string, string> = {}): number | null {
  const read = (text: string) => {
    const buckets = new Map<number, number>();
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}_bucket{`)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      const le = /le="([^"]+)"/.exec(line)![1]!;
      const bound = le === "+Inf" ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
    }
    return buckets;
  };
  const was = read(before);
  const sorted = [...read(after)].map(([b, c]) => [b, c - (was.get(b) ?? 0)] as const).sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1]?.[1] ?? 0;
  if (total === 0) return null;
  for (const [bound, count] of sorted) if (count >= q * total) return bound === Infinity ? Infinity : round(bound * 1000, 2);
  return null;
}

/** Checkouts of one op during a run. */
interface OpCheckouts {
  count: number;
  /** Bucket bound (ms) holding the p50 / p99 wait. */
  waitP50Ms?: number | null;
  waitP99Ms: number | null;
  /** Keys read per checkout, for a batched read (`gatehouse_db_batch_keys`). */
  keysPerCheckout?: number;
}

/** The share (0–1) of a histogram's observations between two scrapes that fell at or under `bound` (a bucket bound, seconds). */
function histogramShareWithin(before: string, after: string, name: string, bound: number, labels: Record<string, string> = {}): number | null {
  const le = `le="${bound}"`;
  const total = (text: string, inf: boolean) => text.split("\n")
    .filter((l) => l.startsWith(`${name}_bucket{`) && l.includes(inf ? 'le="+Inf"' : le) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  const all = total(after, true) - total(before, true);
  return all === 0 ? null : round((total(after, false) - total(before, false)) / all, 3);
}

function byOp(before: string, after: string): Record<string, OpCheckouts> {
  const counts = (text: string) => {
    const m = new Map<string, number>();
    for (const line of text.split("\n")) {
      // Summed over processes: each process's sample carries its own `process` label.
      const x = /^gatehouse_db_checkout_wait_seconds_count\{[^}]*\bop="([^"]+)"[^}]*\} (\S+)/.exec(line);
      if (x) m.set(x[1]!, (m.get(x[1]!) ?? 0) + Number(x[2]));
    }
    return m;
  };
  const was = counts(before);
  const out: Record<string, OpCheckouts> = {};
  for (const [op, n] of counts(after)) {
    const count = n - (was.get(op) ?? 0);
    if (count === 0) continue;
    const name = "gatehouse_db_checkout_wait_seconds";
    const entry: OpCheckouts = { count, waitP50Ms: histogramQuantile(before, after, name, 0.5, { op }), waitP99Ms: histogramQuantile(before, after, name, 0.99, { op }) };
    const keys = (text: string, m: string) => metricValue(text.split("\n").filter((l) => l.includes(`op="${op}"`)).join("\n"), m, true);
    const batches = keys(after, "gatehouse_db_batch_keys_count") - keys(before, "gatehouse_db_batch_keys_count");
    if (batches > 0) entry.keysPerCheckout = round((keys(after, "gatehouse_db_batch_keys_sum") - keys(before, "gatehouse_db_batch_keys_sum")) / batches, 1);
    out[op] = entry;
  }
  return out;
}

/** A sample without labels, or (`allLabels`) the sum of every sample of `name`. */
function metricValue(text: string, name: string, allLabels = false): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || (allLabels && line.startsWith(`${name}{`))) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/** The highest sample of `name` over every label set (a per-process gauge: the busiest process). */
function metricMax(text: string, name: string): number {
  let max = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) max = Math.max(max, Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return max;
}

/**
 * Samples the accept queues of the listeners on `ports` every 100 ms until stopped: per port, per
 * listening socket (in `ss` order), the peak queue length (Recv-Q) and the backlog (Send-Q).
 */
function sampleAcceptQueues(ports: number[]): { stop(): Promise<Map<number, QueueSample[]>> } {
  const peaks = new Map<number, QueueSample[]>();
  let running = true;
  const filter = ports.map((p) => `sport = :${p}`).join(" or ");
  const loop = (async () => {
    while (running) {
      try {
        const proc = Bun.spawn(["ss", "-ltnH", `( ${filter} )`], { stdout: "pipe", stderr: "ignore" });
        const text = await new Response(proc.stdout as ReadableStream<Uint8Array>).text();
        const seen = new Map<number, number>();
        for (const line of text.trim().split("\n")) {
          const f = line.trim().split(/\s+/);
          if (f.length < 4) continue;
          const port = Number(f[3]!.slice(f[3]!.lastIndexOf(":") + 1));
          const i = seen.get(port) ?? 0;
          seen.set(port, i + 1);
          const list = peaks.get(port) ?? [];
          const cur = list[i] ?? { peak: 0, backlog: Number(f[2]) };
          list[i] = { peak: Math.max(cur.peak, Number(f[1])), backlog: Number(f[2]) };
          peaks.set(port, list);
        }
      } catch { /* no ss: no samples */ }
      await Bun.sleep(100);
    }
  })();
  return { stop: async () => ((running = false), await loop, peaks) };
}

/** Cumulative CPU seconds of each consumer at one moment (`at`: performance.now()). */
interface CpuSnapshot {
  server: number;
  upstream: number;
  loadGenerator: number;
  host: number;
  at: number;
}

function cpuSplit(a: CpuSnapshot, b: CpuSnapshot): CpuSplit {
  const d = (k: "server" | "upstream" | "loadGenerator" | "host") => b[k] - a[k];
  return {
    server: round(d("server"), 1),
    upstream: round(d("upstream"), 1),
    loadGenerator: round(d("loadGenerator"), 1),
    rest: round(Math.max(0, d("host") - d("server") - d("upstream") - d("loadGenerator")), 1),
    capacity: round((navigator.hardwareConcurrency * (b.at - a.at)) / 1000, 1),
  };
}

/** The host's busy CPU time so far (all cores, core-seconds; /proc/stat minus idle and iowait; 0 when unreadable). */
function hostBusySeconds(): number {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return (f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** TcpExtListenOverflows from /proc/net/netstat (0 when unreadable). */
function listenOverflows(): number {
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n");
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if (!lines[i]!.startsWith("TcpExt:")) continue;
      const names = lines[i]!.split(" ");
      const vals = lines[i + 1]!.split(" ");
      const at = names.indexOf("ListenOverflows");
      if (at > 0) return Number(vals[at]);
    }
  } catch { /* not Linux */ }
  return 0;
}

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (await check()) return;
    } catch { /* not yet */ }
    await Bun.sleep(50);
  }
  throw new Error(`${what} did not start`);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function fmt(x: number | null): string {
  return x === null ? "–" : String(x);
}

// ------------------------------------------------------------------------------------------ output

function writeOutputs(rs: RunResult[]): void {
  const m = machine();
  const meta = {
    ...m,
    pool: "DATABASE_POOL_SIZE=5, DATABASE_POOL_MAX_OVERFLOW=0, DATABASE_POOL_TIMEOUT=5",
    upstreamSeconds,
    tokensPerAnswer,
    firstTokenMs,
    rampMs,
    users: userCount,
    sessions: sessionCount,
    levels,
    processes: processCounts,
    warm,
    directUsers,
    logLevel,
    extraEnv,
    upstreamProcesses,
    listenBacklogs,
    upstreamListenBacklog,
  };
  const backlogLabel = (r: RunResult) => (r.listenBacklog === null ? "" : ` (GATEHOUSE_LISTEN_BACKLOG=${r.listenBacklog})`);
  const overNominal = (r: RunResult) => (r.e2eP99Ms === null ? null : (r.e2eP99Ms / (upstreamSeconds * 1000) - 1) * 100);
  const rows = rs.map((r) => [
    `${r.rampMs === rampMs ? r.mode : `${r.mode}, all at once`}${backlogLabel(r)}`,
    r.processes,
    r.concurrency,
    `${(r.successRate * 100).toFixed(r.successRate === 1 || r.successRate < 0.999 ? 1 : 2)}%`,
    Object.keys(r.failures).length ? Object.entries(r.failures).map(([k, v]) => `${v}× ${k}`).join(", ") : "–",
    fmt(r.e2eP50Ms === null ? null : round(r.e2eP50Ms / 1000, 2)),
    fmt(r.e2eP99Ms === null ? null : round(r.e2eP99Ms / 1000, 2)),
    overNominal(r) === null ? "–" : `${overNominal(r)!.toFixed(1)}%`,
    r.e2eP99Ms === null || !r.upstream.p99 ? "–" : `${((r.e2eP99Ms / r.upstream.p99 - 1) * 100).toFixed(1)}% (${round(r.upstream.p99 / 1000, 2)} s)`,
    fmt(r.firstByteP99Ms),
    r.listenOverflows,
    `${r.acceptQueues.server.map((q) => `${q.peak}/${q.backlog}`).join(" + ") || "–"}; ${r.acceptQueues.upstream.map((q) => `${q.peak}/${q.backlog}`).join(" + ") || "–"}`,
    r.requestWaitP99Ms === null ? "no checkouts" : `≤ ${r.requestWaitP99Ms}`,
    r.checkoutWaitP99Ms === null ? "no checkouts" : `≤ ${r.checkoutWaitP99Ms} (${r.checkouts}${r.checkoutsWithin5Ms === null ? "" : `; ${round(r.checkoutsWithin5Ms * 100, 1)}% ≤ 5 ms`})`,
    `${r.peakActiveBeforeRun} → ${r.peakActiveConnections}`,
    r.serverCpuSeconds,
    r.serverPeakRssMb,
    `${r.loadBefore} → ${r.loadAfter}`,
    ...[r.cpuSplitBurst, r.cpuSplit].map((c) => (c ? `${c.server} / ${c.upstream} / ${c.loadGenerator} / ${c.rest} (${c.capacity})` : "–")),
  ]);
  const target = rs.find((r) => r.mode === "gatehouse" && r.concurrency === Math.max(...levels) && r.rampMs === rampMs);
  const burst = rs.find((r) => r.rampMs !== rampMs);
  const targets = rs.filter((r) => r.mode === "gatehouse" && r.concurrency === Math.max(...levels) && r.rampMs === rampMs);
  const verdict = target
    ? [
        ...targets.flatMap((t) => [
          `Target at ${t.concurrency} concurrent streams on a pool of 5 per process (gatehouse, GATEHOUSE_PROCESSES=${t.processes}${backlogLabel(t).replace(" (", ", ").replace(")", "")}):`,
          `- success ${(t.successRate * 100).toFixed(2)}% (target 100%): ${t.successRate === 1 ? "met" : "NOT met"}`,
          `- checkout-wait p99 ≤ ${fmt(t.requestWaitP99Ms)} ms per request, ≤ ${fmt(t.checkoutWaitP99Ms)} ms over the run's ${t.checkouts} checkouts (target < 5 ms): ${Math.max(t.checkoutWaitP99Ms ?? 0, t.requestWaitP99Ms ?? 0) < 5 ? "met" : "NOT met"}`,
          `- end-to-end p99 ${fmt(t.e2eP99Ms)} ms: ${fmt(overNominal(t) === null ? null : round(overNominal(t)!, 1))}% over the nominal ${upstreamSeconds * 1000} ms (target ≤ 10%: ${t.e2eP99Ms !== null && t.e2eP99Ms <= upstreamSeconds * 1100 ? "met" : "NOT met"}); vs the upstream's own p99 ${t.upstream.p99} ms: ${t.e2eP99Ms !== null && t.e2eP99Ms <= t.upstream.p99 * 1.1 ? "within 10%" : "more than 10% over"}`,
          `- first byte p99 ${fmt(t.firstByteP99Ms)} ms (target < 1000 ms): ${t.firstByteP99Ms !== null && t.firstByteP99Ms < 1000 ? "met" : "NOT met"}; ${t.listenOverflows} kernel listen-queue overflows`,
        ]),
        ...(burst
          ? [
              `- the same ${burst.concurrency} streams started all at once (row "all at once"): ${(burst.successRate * 100).toFixed(1)}% success, e2e p99 ${fmt(burst.e2eP99Ms)} ms (${burst.e2eP99Ms === null ? "–" : ((burst.e2eP99Ms / burst.upstream.p99 - 1) * 100).toFixed(1)}% over the upstream), first byte p99 ${fmt(burst.firstByteP99Ms)} ms, ${burst.listenOverflows} kernel listen-queue overflows: a burst of thousands of connects in the same millisecond overflows an accept queue smaller than the burst (Bun's own is 512 entries; the backlog in force is in the accept-queue column), and the clients retransmit ~1 s later. Spread over ${rampMs} ms the same load had ${target.listenOverflows}.`,
            ]
          : []),
      ].join("\n")
    : "";
  const markdown = [
    "# Concurrent LLM streams on a pool of 5",
    "",
    `Gatehouse (no connection held while the upstream answers) against a baseline that holds one connection from authentication to the usage write (as Open WebUI before 0.7.2), in the same run. ${meta.pool} (per process); each stream lasts ${upstreamSeconds} s at the fake upstream (${tokensPerAnswer} tokens, first after ${firstTokenMs} ms); clients use ${sessionCount} session tokens of ${userCount} distinct users round-robin${directUsers ? " (users inserted in Postgres with one precomputed argon2id hash, tokens minted with WEBUI_SECRET_KEY)" : ""}, ${warm ? "warmed with one request each (warm caches)" : "with no warm-up: the server processes start with cold user, token and model caches"}; the clients of a level start evenly spread over ${rampMs} ms (--ramp-ms). GATEHOUSE_PROCESSES ${processCounts.join(", ")} (processes column; /metrics scraped per process and summed). Fake upstream: ${upstreamProcesses === 1 ? "one process" : `${upstreamProcesses} processes on one port (reusePort)`}, listen backlog ${upstreamListenBacklog} (--upstream-listen-backlog; in force: the Send-Q after ";" in the accept-queue column). Log level \`${logLevel}\`.${Object.keys(extraEnv).length ? ` Also set: ${Object.entries(extraEnv).map(([k, v]) => `${k}=${v}`).join(", ")}.` : ""} Machine: ${m["cores"]} cores, Bun ${m["bun"]}, ${m["date"]}.`,
    "",
    table(
      ["mode", "processes", "concurrent streams", "success", "failures", "e2e p50 s", "e2e p99 s", "e2e p99 vs nominal", "e2e p99 vs upstream p99 (its p99)", "first byte p99 ms", "listen-queue overflows (host)", "accept queue peak/backlog: server listeners; upstream", "checkout wait p99 per request ms", "checkout wait p99 ms (checkouts; share ≤ 5 ms)", "peak active conns per process (before → after run)", "server CPU s", "server peak RSS MB", "load avg before → after", "CPU core-s in the connect burst (ramp + 1 s): server / upstream / load generator / rest of host (capacity)", "the same over the whole run"],
      rows,
    ),
    "",
    verdict,
    "",
    "Latencies are of successful streams, measured by the client from sending the request to the stream's last byte. Checkout waits come from the server's /metrics, scraped before and after each run: `gatehouse_db_request_wait_seconds{route=\"/api/chat/completions\"}` (the total wait of each chat request) and `gatehouse_db_checkout_wait_seconds` (every checkout of every op, including the batched usage writes and timed-out checkouts); a p99 is the upper bound of the histogram bucket holding it (buckets start at 0.5 ms). Peak active connections is `gatehouse_db_pool_active_peak` (most connections checked out at once since the server process started; the busiest process), read after boot and the warm-up, and again after the run. Server CPU is user+system time of the server's processes (supervisor and children) during the run, RSS their sum. Listen-queue overflows are the host's TcpExtListenOverflows (/proc/net/netstat) during the run. The CPU columns split the host's busy time during the connect burst (from the first client's start to the ramp's end + 1 s, the first-byte target) and during the whole run (/proc/stat) into the server's processes, the fake upstream's, the load generator's (this bench process: the clients) and the rest (Postgres, Redis, anything else on the machine), against the capacity (cores × the run's wall time).",
    "",
    `![success rate and p99 latency against concurrency](${values.out}.svg)`,
  ].join("\n");
  writeResults(values.out!, { meta, results: rs }, markdown);
  const svgPath = `${root}bench/results/${values.out}.svg`;
  writeFileSync(svgPath, chart(rs));
  console.log(`wrote bench/results/${values.out}.svg`);
  console.log(markdown);
}

/** Two panels: success rate and e2e p99 against concurrency (log scale), one line per mode. */
function chart(all: RunResult[]): string {
  const rs = all.filter((r) => r.rampMs === rampMs);
  const W = 920;
  const H = 400;
  const panelW = 400;
  const panelH = 260;
  const top = 60;
  const lefts = [60, 510];
  const colors: Record<Mode, string> = { gatehouse: "#1f77b4", "gatehouse-deno": "#2ca02c", baseline: "#d62728" };
  const xs = [...new Set(rs.map((r) => r.concurrency))].sort((a, b) => a - b);
  const lx = (c: number, left: number) => {
    const lo = Math.log10(xs[0]!);
    const hi = Math.log10(xs[xs.length - 1]!);
    return left + (hi === lo ? panelW / 2 : ((Math.log10(c) - lo) / (hi - lo)) * panelW);
  };
  const maxLatency = Math.max(1, upstreamSeconds, ...rs.map((r) => (r.e2eP99Ms ?? 0) / 1000));
  const yMax = Math.ceil((maxLatency * 1.1) / 4) * 4;
  const panels: Array<{ title: string; unit: string; max: number; value: (r: RunResult) => number | null }> = [
    { title: "Success rate", unit: "%", max: 100, value: (r) => r.successRate * 100 },
    { title: "End-to-end p99 of successful streams", unit: "s", max: yMax, value: (r) => (r.e2eP99Ms === null ? null : r.e2eP99Ms / 1000) },
  ];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Concurrent ${upstreamSeconds} s LLM streams, pool of 5 (size 5, overflow 0, timeout 5 s)</text>`,
  ];
  panels.forEach((p, pi) => {
    const left = lefts[pi]!;
    const y = (v: number) => top + panelH - (v / p.max) * panelH;
    parts.push(`<text x="${left + panelW / 2}" y="${top - 12}" text-anchor="middle" font-weight="bold">${p.title} (${p.unit})</text>`);
    parts.push(`<line x1="${left}" y1="${top + panelH}" x2="${left + panelW}" y2="${top + panelH}" stroke="#333"/>`);
    parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + panelH}" stroke="#333"/>`);
    for (let i = 0; i <= 4; i++) {
      const v = (p.max / 4) * i;
      parts.push(`<line x1="${left}" y1="${y(v)}" x2="${left + panelW}" y2="${y(v)}" stroke="#eee"/>`);
      parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${round(v, 1)}</text>`);
    }
    for (const c of xs) {
      parts.push(`<text x="${lx(c, left).toFixed(1)}" y="${top + panelH + 16}" text-anchor="middle">${c}</text>`);
    }
    if (pi === 1) {
      // The upstream's own answer time: the floor any proxy's latency sits on.
      parts.push(`<line x1="${left}" y1="${y(upstreamSeconds)}" x2="${left + panelW}" y2="${y(upstreamSeconds)}" stroke="#888" stroke-dasharray="5,4"/>`);
      parts.push(`<text x="${left + panelW - 4}" y="${y(upstreamSeconds) + 14}" text-anchor="end" fill="#555">upstream answer: ${upstreamSeconds} s</text>`);
    }
    parts.push(`<text x="${left + panelW / 2}" y="${top + panelH + 34}" text-anchor="middle">concurrent streams (log scale)</text>`);
    for (const mode of ["gatehouse", "baseline"] as Mode[]) {
      const pts = rs.filter((r) => r.mode === mode).sort((a, b) => a.concurrency - b.concurrency)
        .map((r) => [r.concurrency, p.value(r)] as const).filter((pt): pt is readonly [number, number] => pt[1] !== null);
      if (pts.length === 0) continue;
      parts.push(`<polyline fill="none" stroke="${colors[mode]}" stroke-width="2" points="${pts.map(([c, v]) => `${lx(c, left).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"/>`);
      for (const [c, v] of pts) parts.push(`<circle cx="${lx(c, left).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${colors[mode]}"><title>${mode} ${c}: ${round(v, 2)} ${p.unit}</title></circle>`);
    }
  });
  const legendY = H - 14;
  (["gatehouse", "baseline"] as Mode[]).forEach((mode, i) => {
    const x = W / 2 - 200 + i * 220;
    parts.push(`<line x1="${x}" y1="${legendY}" x2="${x + 24}" y2="${legendY}" stroke="${colors[mode]}" stroke-width="3"/>`);
    parts.push(`<text x="${x + 30}" y="${legendY + 4}">${mode === "gatehouse" ? "Gatehouse (no connection held)" : "baseline (connection held per request)"}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
