/**
 * Why the pool: while 64 concurrent sign-ins verify passwords, a second client
 * measures the latency of warm authenticated GETs. Modes in one run: idle (no sign-ins),
 * hashing on the worker pool, hashing inline on the event loop. Also sign-in throughput with
 * one pool thread vs all cores. The load account carries Open WebUI's bcrypt (cost 12) hash and
 * the load uses a wrong password, so every attempt is a full bcrypt verification (pure JS: it
 * runs wherever the policy puts it) and the hash is never upgraded to argon2id. The load is
 * spread over several such accounts: sign-in verifies one password per email at a time.
 *   bun bench/event-loop.ts [--seconds 8] [--probes 400]
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import vectors from "../test/fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { startPostgres, startRedis, stopAll, freePort } from "../test/harness/services.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" }, probes: { type: "string", default: "400" } } });
const seconds = Number(values.seconds);
const probes = Number(values.probes);
const root = new URL("..", import.meta.url).pathname;
const cores = navigator.hardwareConcurrency;

const pg = await startPostgres();
const redis = await startRedis();

async function server(name: string, env: Record<string, string>) {
  const port = await freePort();
  const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "bench/bench-server.ts"], {
    cwd: root,
    env: {
      ...process.env, ...env, PORT: String(port), DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `evl-${name}`,
      WEBUI_SECRET_KEY: "bench", GATEHOUSE_LOG_LEVEL: "warn", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
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
  return { proc, base };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function probe(base: string, token: string): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < probes; i++) {
    const t = performance.now();
    const r = await fetch(`${base}/bench/authed`, { headers: { authorization: `Bearer ${token}` } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`probe got ${r.status}`);
    lat.push(performance.now() - t);
    await Bun.sleep(5);
  }
  return lat;
}

/** Enough load accounts to keep every core busy (one verification per email at a time). */
const LOAD_ACCOUNTS = Math.max(8, cores * 2);

async function signInLoad(base: string, emails: string[], until: number): Promise<{ ok: number; errors: number }> {
  let ok = 0;
  let errors = 0;
  await Promise.all(Array.from({ length: 64 }, async (_, i) => {
    const email = emails[i % emails.length]!;
    while (performance.now() < until) {
      const r = await fetch(`${base}/api/v1/auths/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password: "wrong-password" }) });
      await r.arrayBuffer();
      if (r.status === 400) ok++;
      else errors++;
    }
  }));
  return { ok, errors };
}

/** signinsPerSecond counts completed (refused) bcrypt verifications per second. */
interface ModeResult { mode: string; p50: number; p99: number; signinsPerSecond: number; signinErrors: number }
const results: ModeResult[] = [];
async function mode(name: string, env: Record<string, string>, load: boolean): Promise<void> {
  const { proc, base } = await server(name, env);
  try {
    const signup = async (email: string, password: string) => {
      const r = await fetch(`${base}/api/v1/auths/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: email, email, password }) });
      return ((await r.json()) as { token: string }).token;
    };
    const token = await signup(`probe-${name}@example.com`, "pw");
    const loadEmails = Array.from({ length: LOAD_ACCOUNTS }, (_, i) => `load-${name}-${i}@example.com`);
    for (const email of loadEmails) await signup(email, "load-pw");
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    await sql`update auth set password = ${vectors.bcrypt_hash_of_password123} where email like ${`load-${name}-%`}`;
    await sql.end();
    await probe(base, token); // warm
    let loadResult = { ok: 0, errors: 0 };
    const started = performance.now();
    const loadDone = load ? signInLoad(base, loadEmails, started + seconds * 1000) : Promise.resolve(loadResult);
    await Bun.sleep(load ? 500 : 0);
    const lat = await probe(base, token);
    loadResult = await loadDone;
    const elapsed = (performance.now() - started) / 1000;
    results.push({ mode: name, p50: pct(lat, 50), p99: pct(lat, 99), signinsPerSecond: load ? loadResult.ok / elapsed : 0, signinErrors: loadResult.errors });
    console.log(name, results.at(-1));
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

try {
  await mode("idle", {}, false);
  await mode("pool", { GATEHOUSE_CRYPTO_POLICY_PASSWORD_VERIFY: "pool", GATEHOUSE_CRYPTO_POLICY_PASSWORD_HASH: "pool" }, true);
  await mode("inline", { GATEHOUSE_CRYPTO_POLICY_PASSWORD_VERIFY: "inline", GATEHOUSE_CRYPTO_POLICY_PASSWORD_HASH: "inline" }, true);
  await mode("pool-1-thread", { GATEHOUSE_CRYPTO_POLICY_PASSWORD_VERIFY: "pool", GATEHOUSE_CRYPTO_THREADS: "1" }, true);
  await mode(`pool-${cores}-threads`, { GATEHOUSE_CRYPTO_POLICY_PASSWORD_VERIFY: "pool", GATEHOUSE_CRYPTO_THREADS: String(cores) }, true);
} finally {
  await stopAll();
}

const get = (m: string) => results.find((r) => r.mode === m)!;
const idle = get("idle");
const ratios = {
  poolP99OverIdleP99: get("pool").p99 / idle.p99,
  inlineP99OverIdleP99: get("inline").p99 / idle.p99,
  inlineP99OverPoolP99: get("inline").p99 / get("pool").p99,
  threadsThroughputRatio: get(`pool-${cores}-threads`).signinsPerSecond / get("pool-1-thread").signinsPerSecond,
};
console.log(ratios);
writeResults("event-loop", { machine: machine(), seconds, probes, results, ratios }, [
  "# Warm authenticated GET latency while 64 sign-ins verify bcrypt passwords",
  "",
  `${probes} sequential probes per mode against GET /bench/authed (full auth path), during ${seconds} s of 64 concurrent sign-ins against an account with Open WebUI's bcrypt (cost 12) hash and a wrong password (a full verification each, never rehashed); Postgres and Redis on loopback; 2 cores shared by client and server.`,
  "",
  table(["mode", "probe p50 ms", "probe p99 ms", "bcrypt verifications/s", "other errors"], results.map((r) => [r.mode, r.p50.toFixed(2), r.p99.toFixed(2), r.signinsPerSecond.toFixed(1), r.signinErrors])),
  "",
  `pool p99 / idle p99 = ${ratios.poolP99OverIdleP99.toFixed(2)} (goal ≤ 2); inline p99 / idle p99 = ${ratios.inlineP99OverIdleP99.toFixed(2)}; inline p99 / pool p99 = ${ratios.inlineP99OverPoolP99.toFixed(2)}`,
  `sign-in throughput, ${cores} threads / 1 thread = ${ratios.threadsThroughputRatio.toFixed(2)} (goal ≥ 1.7)`,
].join("\n"));
