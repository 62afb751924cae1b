/**
 * An event loop that hashing cannot starve (issue 19 item 5). Two Gatehouse processes in one
 * run: "nice10" with the default settings (crypto worker threads at nice 10, argon2id limited to
 * the default GATEHOUSE_CRYPTO_ARGON2_CONCURRENCY) and "nice0" (nice 0, argon2id on every thread:
 * the old behaviour, and the all-cores throughput reference). --servers picks others: "niceN"
 * sets the nice value, a "-argon2all" suffix lets argon2id use every thread. For each, sequential warm
 * authenticated GETs (the probe) measure the event loop while nothing else runs (idle), during a
 * 64-way bcrypt-verify sign-in storm (Open WebUI bcrypt cost-12 hashes, wrong password: a full
 * verification each, never rehashed), and during a 64-way argon2id sign-up storm (each a new
 * user: one argon2id hash each). Modes and servers are interleaved over 3 rounds; probes per mode
 * are summed over the rounds. Both servers use every core for hashing (GATEHOUSE_CRYPTO_THREADS
 * = cores), so "nice 0" is the all-cores throughput the niced threads are compared with.
 * --storms adds "hash" to the storms: 64 concurrent POST /bench/hash, the same argon2id hash
 * through the pool with none of a sign-up's other work (database, session, token). Each cell
 * also records the server's event-loop thread CPU per completed request (/proc/<pid>/task/<pid>).
 * With --baseline-root DIR, a third server ("before", default settings) runs DIR's
 * bench/bench-server.ts, e.g. an older commit unpacked with `git archive`, interleaved with the others.
 *   bun bench/event-loop.ts [--probes 2000] [--rounds 3] [--baseline-root DIR --baseline-label TEXT] [--storms bcrypt,argon2id[,hash]] [--servers nice10,nice0] [--out event-loop]
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import vectors from "../test/fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { startPostgres, startRedis, stopAll, freePort } from "../test/harness/services.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const { values } = parseArgs({
  options: {
    probes: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    "baseline-root": { type: "string" },
    "baseline-label": { type: "string", default: "an older tree" },
    out: { type: "string", default: "event-loop" },
    storms: { type: "string", default: "bcrypt,argon2id" },
    servers: { type: "string", default: "nice10,nice0" },
  },
});
const baselineRoot = values["baseline-root"];
const probesPerMode = Number(values.probes);
const rounds = Number(values.rounds);
const perRound = Math.ceil(probesPerMode / rounds);
const root = new URL("..", import.meta.url).pathname;
const cores = navigator.hardwareConcurrency;
const loadAt = () => Bun.spawnSync(["cat", "/proc/loadavg"]).stdout.toString().split(" ").slice(0, 3).join(" ");
const loadBefore = loadAt();

const pg = await startPostgres();
const redis = await startRedis();

async function server(name: string, nice: number, cwd = root) {
  const port = await freePort();
  const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "bench/bench-server.ts"], {
    cwd,
    env: {
      ...process.env, PORT: String(port), DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `evl-${name}`,
      WEBUI_SECRET_KEY: "bench-event-loop", GATEHOUSE_LOG_LEVEL: "warn", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
      GATEHOUSE_CRYPTO_NICE: String(nice), GATEHOUSE_CRYPTO_THREADS: String(cores),
      // The all-cores reference (and any "…-argon2all" server) hashes argon2 on every thread; the others keep the default limit.
      ...(name === "nice0" || name.endsWith("-argon2all") ? { GATEHOUSE_CRYPTO_ARGON2_CONCURRENCY: String(cores) } : {}),
      GATEHOUSE_CRYPTO_POLICY_PASSWORD_VERIFY: "pool", GATEHOUSE_CRYPTO_POLICY_PASSWORD_HASH: "pool",
      GATEHOUSE_CRYPTO_MAX_QUEUE: "10000", GATEHOUSE_SIGNIN_RATE_LIMIT_PER_EMAIL: "1000000", GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "1000000",
    },
    stdout: "ignore", stderr: "inherit",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/livez`)).ok) break;
    } catch { /* starting */ }
    await Bun.sleep(100);
  }
  const signup = async (email: string, password: string) => {
    const r = await fetch(`${base}/api/v1/auths/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: email, email, password }) });
    if (r.status !== 200) throw new Error(`signup ${r.status}`);
    return ((await r.json()) as { token: string }).token;
  };
  const token = await signup(`probe-${name}@example.com`, "pw");
  // One verification per email at a time: spread the bcrypt storm over several accounts.
  const loadEmails = Array.from({ length: Math.max(8, cores * 2) }, (_, i) => `load-${name}-${i}@example.com`);
  for (const email of loadEmails) await signup(email, "load-pw");
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  await sql`update auth set password = ${vectors.bcrypt_hash_of_password123} where email like ${`load-${name}-%`}`;
  await sql.end();
  return { name, nice, proc, base, token, loadEmails, signups: 0 };
}
type Server = Awaited<ReturnType<typeof server>>;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function probe(s: Server, n: number): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await fetch(`${s.base}/bench/authed`, { headers: { authorization: `Bearer ${s.token}` } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`probe got ${r.status}`);
    lat.push(performance.now() - t);
    await Bun.sleep(1);
  }
  return lat;
}

type Storm = "idle" | "bcrypt" | "argon2id" | "hash";
const storms = ["idle", ...values.storms.split(",")] as Storm[];
const STORM_STATUS: Record<Storm, number> = { idle: 0, bcrypt: 400, argon2id: 200, hash: 200 };
/** A thread's scheduler counters (/proc/<pid>/task/<tid>/schedstat): on-CPU ms, run-queue wait ms, times run. */
const sched = (pid: number) => {
  const [cpu, wait, runs] = Bun.spawnSync(["cat", `/proc/${pid}/task/${pid}/schedstat`]).stdout.toString().trim().split(" ").map(Number);
  return { cpuMs: cpu! / 1e6, waitMs: wait! / 1e6, runs: runs! };
};
/** Runs `storm` with 64 concurrent clients until `done` resolves; returns completed hashes. */
async function storm(s: Server, kind: Storm, done: Promise<unknown>): Promise<{ ok: number; errors: number }> {
  if (kind === "idle") {
    await done;
    return { ok: 0, errors: 0 };
  }
  let stop = false;
  void done.then(() => (stop = true));
  let ok = 0;
  let errors = 0;
  await Promise.all(Array.from({ length: 64 }, async (_, i) => {
    while (!stop) {
      const r = kind === "bcrypt"
        ? await fetch(`${s.base}/api/v1/auths/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: s.loadEmails[i % s.loadEmails.length], password: "wrong-password" }) })
        : kind === "hash"
          ? await fetch(`${s.base}/bench/hash`, { method: "POST" })
          : await fetch(`${s.base}/api/v1/auths/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "s", email: `storm-${s.name}-${s.signups++}@example.com`, password: "storm-pw" }) });
      await r.arrayBuffer();
      if (r.status === STORM_STATUS[kind]) ok++;
      else errors++;
    }
  }));
  return { ok, errors };
}

interface Cell {
  latencies: number[]; hashes: number; seconds: number; errors: number; loads: string[];
  /** The server's event-loop thread, and this client's: on-CPU and run-queue wait ms, times run. */
  loopCpuMs: number; loopWaitMs: number; loopRuns: number; clientWaitMs: number; clientRuns: number;
}
const cells = new Map<string, Cell>();
const servers: Server[] = [];
try {
  for (const name of values.servers.split(",")) servers.push(await server(name, /^nice(\d+)/.exec(name) ? Number(/^nice(\d+)/.exec(name)![1]) : 10));
  if (baselineRoot !== undefined) servers.push(await server("before", 10, baselineRoot));
  for (const s of servers) await probe(s, 200); // warm
  for (let r = 0; r < rounds; r++) {
    for (const kind of storms) {
      for (const s of r % 2 === 0 ? servers : [...servers].reverse()) {
        const load = loadAt();
        const t0 = performance.now();
        const loop0 = sched(s.proc.pid);
        const client0 = sched(process.pid);
        let finish!: () => void;
        const done = new Promise<void>((res) => (finish = res));
        const stormDone = storm(s, kind, done);
        if (kind !== "idle") await Bun.sleep(300); // let the storm fill the threads
        const lat = await probe(s, perRound);
        finish();
        const res = await stormDone;
        const seconds = (performance.now() - t0) / 1000;
        const loop1 = sched(s.proc.pid);
        const client1 = sched(process.pid);
        const key = `${s.name} ${kind}`;
        const c = cells.get(key) ?? { latencies: [], hashes: 0, seconds: 0, errors: 0, loads: [], loopCpuMs: 0, loopWaitMs: 0, loopRuns: 0, clientWaitMs: 0, clientRuns: 0 };
        c.latencies.push(...lat);
        c.hashes += res.ok;
        c.seconds += seconds;
        c.errors += res.errors;
        c.loopCpuMs += loop1.cpuMs - loop0.cpuMs;
        c.loopWaitMs += loop1.waitMs - loop0.waitMs;
        c.loopRuns += loop1.runs - loop0.runs;
        c.clientWaitMs += client1.waitMs - client0.waitMs;
        c.clientRuns += client1.runs - client0.runs;
        c.loads.push(load);
        cells.set(key, c);
        console.log(`round ${r + 1} ${key}: p99 ${pct(lat, 99).toFixed(2)} ms, ${(res.ok / seconds).toFixed(1)} hashes/s, errors ${res.errors} (load ${load})`);
      }
    }
  }
} finally {
  for (const s of servers) s.proc.kill("SIGTERM");
  await Promise.all(servers.map((s) => s.proc.exited));
  await stopAll();
}
const loadAfter = loadAt();

const cell = (k: string) => cells.get(k)!;
const p99 = (k: string) => pct(cell(k).latencies, 99);
const rate = (k: string) => cell(k).hashes / cell(k).seconds;
const rows = [...cells.entries()].map(([k, c]) => [
  k, c.latencies.length, pct(c.latencies, 50).toFixed(2), pct(c.latencies, 99).toFixed(2), k.endsWith("idle") ? "—" : (c.hashes / c.seconds).toFixed(1), c.errors,
  (c.loopCpuMs / c.seconds / 10).toFixed(1), k.endsWith("idle") ? "—" : ((c.loopCpuMs - (c.latencies.length * idleCpuPerProbe(k))) / Math.max(1, c.hashes)).toFixed(2),
  ((1000 * c.loopWaitMs) / Math.max(1, c.loopRuns)).toFixed(0), ((1000 * c.clientWaitMs) / Math.max(1, c.clientRuns)).toFixed(0),
]);
/** Event-loop CPU per probe when idle, in ms: subtracted to leave the storm's own cost per request. */
function idleCpuPerProbe(key: string): number {
  const idle = cells.get(`${key.split(" ")[0]} idle`)!;
  return idle.loopCpuMs / idle.latencies.length;
}
const ratios: Record<string, number> = {};
const names = servers.map((s) => s.name);
for (const s of names) {
  for (const kind of storms.slice(1)) ratios[`${s} ${kind} p99 / idle p99`] = p99(`${s} ${kind}`) / p99(`${s} idle`);
}
for (const kind of names.includes("nice0") ? storms.slice(1) : []) {
  for (const s of names.filter((n) => n !== "nice0")) ratios[`${kind} throughput ${s} / nice0 (all cores)`] = rate(`${s} ${kind}`) / rate(`nice0 ${kind}`);
}
console.log(ratios);
// The JSON keeps each cell's probe summary, not every latency.
const summary = Object.fromEntries([...cells].map(([k, c]) => {
  const { latencies, ...rest } = c;
  return [k, { ...rest, probes: { count: latencies.length, p50: pct(latencies, 50), p99: pct(latencies, 99), max: Math.max(...latencies) } }];
}));
const target = (k: string) => (k.includes("throughput") ? (k.startsWith("bcrypt throughput nice10") || k.startsWith("argon2id throughput nice10") ? "≥ 0.9" : "(for comparison)") : k.startsWith("nice10") ? "≤ 2" : "(for comparison)");
writeResults(values.out, { machine: machine(), probesPerMode, rounds, baseline: baselineRoot === undefined ? null : values["baseline-label"], loadBefore, loadAfter, cells: summary, ratios }, [
  "# Event-loop latency during hashing storms, crypto threads niced vs not",
  "",
  `Two Gatehouse processes (Bun ${Bun.version}) in one run: **nice10** with the default settings (crypto threads at nice 10, ${cores} pool threads = cores, argon2id ops limited to the default GATEHOUSE_CRYPTO_ARGON2_CONCURRENCY = half the threads), and **nice0**, the all-cores reference (nice 0, argon2id on all ${cores} threads, the old behaviour). ${rounds} rounds, modes and servers interleaved (order alternating per round); ≥ ${probesPerMode} sequential probes per mode (summed over rounds).`,
  ...(baselineRoot === undefined ? [] : ["", `A third process, **before**, runs ${values["baseline-label"]} with the same settings as nice10 (the default ones).`]),
  "",
  `- **Probe:** warm authenticated GET /bench/authed (one token, caches warm), 1 ms apart. **Log level:** warn (the probe measures the loop, not logging). **Users:** 1 probe user; ${Math.max(8, cores * 2)} bcrypt accounts for the verify storm; every argon2id sign-up is a new user (cold).`,
  "- **bcrypt storm:** 64 concurrent sign-ins with a wrong password against Open WebUI cost-12 bcrypt hashes (a full verification each). **argon2id storm:** 64 concurrent sign-ups (one argon2id hash + insert each). **hash storm** (when run): 64 concurrent POST /bench/hash, the same argon2id hash through the pool and nothing else. Hashes/s count completed requests. **Event-loop CPU** is the server's main thread (/proc/<pid>/task/<pid>/schedstat) over the cell; per storm request it is net of the probes' own cost (idle CPU per probe × probes). **Run-queue wait per run**: the time the server's event-loop thread (and the bench client's main thread) spent runnable but waiting for a core, divided by the times it ran — the scheduler's share of the latency.",
  `- **Machine:** ${cores} cores shared by the client, both servers, Postgres, Redis and other developers' test runs; load average ${loadBefore} before, ${loadAfter} after (per-segment loads in the JSON). Other processes at nice 0 compete with niced hashing threads, which lowers nice-10 throughput on a shared box.`,
  "",
  table(["server / mode", "probes", "p50 ms", "p99 ms", "hashes/s", "errors", "event-loop CPU %", "loop CPU ms per storm request", "loop run-queue wait µs per run", "client wait µs per run"], rows),
  "",
  "| ratio | value | target |",
  "|---|---|---|",
  ...Object.entries(ratios).map(([k, v]) => `| ${k} | ${v.toFixed(2)} | ${target(k)} |`),
].join("\n"));
