/**
 * An event loop that hashing cannot starve (issue 19 item 5). Two Gatehouse processes in one
 * run, identical but for GATEHOUSE_CRYPTO_NICE: 10 (the default: crypto worker threads below
 * the event loop) and 0 (same priority, the old behaviour). For each, sequential warm
 * authenticated GETs (the probe) measure the event loop while nothing else runs (idle), during a
 * 64-way bcrypt-verify sign-in storm (Open WebUI bcrypt cost-12 hashes, wrong password: a full
 * verification each, never rehashed), and during a 64-way argon2id sign-up storm (each a new
 * user: one argon2id hash each). Modes and servers are interleaved over 3 rounds; probes per mode
 * are summed over the rounds. Both servers use every core for hashing (GATEHOUSE_CRYPTO_THREADS
 * = cores), so "nice 0" is the all-cores throughput the niced threads are compared with.
 *   bun bench/event-loop.ts [--probes 2000] [--rounds 3]
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import vectors from "../test/fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { startPostgres, startRedis, stopAll, freePort } from "../test/harness/services.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const { values } = parseArgs({ options: { probes: { type: "string", default: "2000" }, rounds: { type: "string", default: "3" } } });
const probesPerMode = Number(values.probes);
const rounds = Number(values.rounds);
const perRound = Math.ceil(probesPerMode / rounds);
const root = new URL("..", import.meta.url).pathname;
const cores = navigator.hardwareConcurrency;
const loadAt = () => Bun.spawnSync(["cat", "/proc/loadavg"]).stdout.toString().split(" ").slice(0, 3).join(" ");
const loadBefore = loadAt();

const pg = await startPostgres();
const redis = await startRedis();

async function server(name: string, nice: number) {
  const port = await freePort();
  const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "bench/bench-server.ts"], {
    cwd: root,
    env: {
      ...process.env, PORT: String(port), DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `evl-${name}`,
      WEBUI_SECRET_KEY: "bench-event-loop", GATEHOUSE_LOG_LEVEL: "warn", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
      GATEHOUSE_CRYPTO_NICE: String(nice), GATEHOUSE_CRYPTO_THREADS: String(cores),
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

type Storm = "idle" | "bcrypt" | "argon2id";
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
        : await fetch(`${s.base}/api/v1/auths/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "s", email: `storm-${s.name}-${s.signups++}@example.com`, password: "storm-pw" }) });
      await r.arrayBuffer();
      if (r.status === (kind === "bcrypt" ? 400 : 200)) ok++;
      else errors++;
    }
  }));
  return { ok, errors };
}

interface Cell { latencies: number[]; hashes: number; seconds: number; errors: number; loads: string[] }
const cells = new Map<string, Cell>();
const servers: Server[] = [];
try {
  servers.push(await server("nice10", 10), await server("nice0", 0));
  for (const s of servers) await probe(s, 200); // warm
  for (let r = 0; r < rounds; r++) {
    for (const kind of ["idle", "bcrypt", "argon2id"] as Storm[]) {
      for (const s of r % 2 === 0 ? servers : [...servers].reverse()) {
        const load = loadAt();
        const t0 = performance.now();
        let finish!: () => void;
        const done = new Promise<void>((res) => (finish = res));
        const stormDone = storm(s, kind, done);
        if (kind !== "idle") await Bun.sleep(300); // let the storm fill the threads
        const lat = await probe(s, perRound);
        finish();
        const res = await stormDone;
        const seconds = (performance.now() - t0) / 1000;
        const key = `${s.name} ${kind}`;
        const c = cells.get(key) ?? { latencies: [], hashes: 0, seconds: 0, errors: 0, loads: [] };
        c.latencies.push(...lat);
        c.hashes += res.ok;
        c.seconds += seconds;
        c.errors += res.errors;
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
const rows = [...cells.entries()].map(([k, c]) => [k, c.latencies.length, pct(c.latencies, 50).toFixed(2), pct(c.latencies, 99).toFixed(2), k.endsWith("idle") ? "—" : (c.hashes / c.seconds).toFixed(1), c.errors]);
const ratios: Record<string, number> = {};
for (const s of ["nice10", "nice0"]) {
  for (const kind of ["bcrypt", "argon2id"]) ratios[`${s} ${kind} p99 / idle p99`] = p99(`${s} ${kind}`) / p99(`${s} idle`);
}
for (const kind of ["bcrypt", "argon2id"]) ratios[`${kind} throughput nice10 / nice0 (all cores)`] = rate(`nice10 ${kind}`) / rate(`nice0 ${kind}`);
console.log(ratios);
// The JSON keeps each cell's probe summary, not every latency.
const summary = Object.fromEntries([...cells].map(([k, c]) => {
  const { latencies, ...rest } = c;
  return [k, { ...rest, probes: { count: latencies.length, p50: pct(latencies, 50), p99: pct(latencies, 99), max: Math.max(...latencies) } }];
}));
writeResults("event-loop", { machine: machine(), probesPerMode, rounds, loadBefore, loadAfter, cells: summary, ratios }, [
  "# Event-loop latency during hashing storms, crypto threads niced vs not",
  "",
  `Two Gatehouse processes (Bun ${Bun.version}) in one run, identical except GATEHOUSE_CRYPTO_NICE = 10 (default) or 0; both hash on ${cores} pool threads (all cores). ${rounds} rounds, modes and servers interleaved (order alternating per round); ≥ ${probesPerMode} sequential probes per mode (summed over rounds).`,
  "",
  `- **Probe:** warm authenticated GET /bench/authed (one token, caches warm), 1 ms apart. **Log level:** warn (the probe measures the loop, not logging). **Users:** 1 probe user; ${Math.max(8, cores * 2)} bcrypt accounts for the verify storm; every argon2id sign-up is a new user (cold).`,
  "- **bcrypt storm:** 64 concurrent sign-ins with a wrong password against Open WebUI cost-12 bcrypt hashes (a full verification each). **argon2id storm:** 64 concurrent sign-ups (one argon2id hash + insert each). Hashes/s count completed requests.",
  `- **Machine:** ${cores} cores shared by the client, both servers, Postgres, Redis and other developers' test runs; load average ${loadBefore} before, ${loadAfter} after (per-segment loads in the JSON). Other processes at nice 0 compete with niced hashing threads, which lowers nice-10 throughput on a shared box.`,
  "",
  table(["server / mode", "probes", "p50 ms", "p99 ms", "hashes/s", "errors"], rows),
  "",
  "| ratio | value | target |",
  "|---|---|---|",
  ...Object.entries(ratios).map(([k, v]) => `| ${k} | ${v.toFixed(2)} | ${k.includes("throughput") ? "≥ 0.9" : k.startsWith("nice10") ? "≤ 2" : "(old behaviour, for comparison)"} |`),
].join("\n"));
