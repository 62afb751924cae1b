/**
 * Crypto op costs inline vs through the worker pool with 1 thread and with N (= cores) threads
 * (DESIGN §5a). Per op and placement:
 * - sequential (tinybench): one op at a time — mean and p99 latency, ops/s;
 * - loaded: K ops in flight for a fixed time — ops/s and main-thread CPU per op, the quantity
 *   the `auto` policy compares (what the event loop pays per op).
 * Then the pool's round-trip overhead (noop), the break-even cost (CPU model, and where the
 * spin sweep's pooled throughput overtakes inline), and what `auto` decides from a calibration
 * on this machine. Writes bench/results/crypto.json and crypto.md.
 *
 *   bun bench/crypto.bench.ts [--quick]
 */
import { generateKeyPairSync } from "node:crypto";
import { Bench } from "tinybench";
import vectors from "../test/fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { calibrateCrypto } from "../src/crypto/offload/calibration.ts";
import { threadCpuClock } from "../src/platform.ts";
import { runCryptoOp, type CryptoOpArgs, type CryptoOpName } from "../src/crypto/offload/ops.ts";
import { decidePlacements } from "../src/crypto/offload/policy.ts";
import { defaultCryptoThreads, parseCryptoPolicy } from "../src/config/crypto-config.ts";
import { CryptoPool } from "../src/crypto/offload/pool.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const quick = process.argv.includes("--quick");
const FAST = { seqMs: quick ? 100 : 250, loadedMs: quick ? 150 : 300, inFlight: 32 };
const SLOW = { seqIterations: quick ? 2 : 3, loadedMs: quick ? 300 : 1000, inFlight: 4 };
const SPIN_SWEEP = [25, 50, 100, 200, 1000];
const clock = threadCpuClock();
const cores = defaultCryptoThreads();

interface Case {
  readonly label: string;
  readonly op: CryptoOpName;
  readonly args: unknown;
  readonly slow?: boolean;
}

const fernetKey = vectors.fernet_key_from_secret;
const plaintext = JSON.stringify({ access_token: "a".repeat(1000), id_token: "b".repeat(900) });
const fernetToken = (await runCryptoOp("fernet.encrypt", { key: fernetKey, plaintext })) as string;
const claims = { id: "3f1c2b9e-0000-4000-8000-000000000001", exp: 4102444800 };
const now = 1767225600;
const hsToken = (await runCryptoOp("jwt.sign", { alg: "HS256", key: "test-webui-secret-key", claims, now })) as string;
const rsaPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const rsToken = (await runCryptoOp("jwt.sign", { alg: "RS256", key: rsaPem, claims, now })) as string;

const cases: Case[] = [
  { label: "noop", op: "noop", args: null },
  ...SPIN_SWEEP.map((micros) => ({ label: `spin ${micros} µs`, op: "spin" as const, args: { micros } })),
  { label: "fernet.encrypt 2 KB", op: "fernet.encrypt", args: { key: fernetKey, plaintext } },
  { label: "fernet.decrypt 2 KB", op: "fernet.decrypt", args: { key: fernetKey, token: fernetToken } },
  { label: "jwt.sign HS256", op: "jwt.sign", args: { alg: "HS256", key: "test-webui-secret-key", claims, now } },
  { label: "jwt.verify HS256", op: "jwt.verify", args: { alg: "HS256", key: "test-webui-secret-key", token: hsToken, now } },
  { label: "jwt.sign RS256", op: "jwt.sign", args: { alg: "RS256", key: rsaPem, claims, now } },
  { label: "jwt.verify RS256", op: "jwt.verify", args: { alg: "RS256", key: rsaPem, token: rsToken, now } },
  { label: "password.hash argon2id", op: "password.hash", args: { password: "correct horse" }, slow: true },
  { label: "password.verify argon2id", op: "password.verify", args: { password: "password123", hash: vectors.argon2id_hash_of_password123 }, slow: true },
  { label: "password.verify bcrypt $2b$12", op: "password.verify", args: { password: "password123", hash: vectors.bcrypt_hash_of_password123 }, slow: true },
];

interface Row {
  label: string;
  where: string;
  seqMeanUs: number;
  seqP99Us: number;
  seqOpsPerSec: number;
  loadedOpsPerSec: number;
  loadedMainCpuUsPerOp: number;
}

const started = performance.now();
const pools = [
  { where: "pool×1", pool: new CryptoPool({ threads: 1 }) },
  ...(cores > 1 ? [{ where: `pool×${cores}`, pool: new CryptoPool({ threads: cores }) }] : []),
];
await Promise.all(pools.map((p) => p.pool.warmUp()));
const placements: Array<{ where: string; run: (c: Case) => Promise<unknown> }> = [
  { where: "inline", run: (c) => runCryptoOp(c.op, c.args) },
  ...pools.map(({ where, pool }) => ({ where, run: (c: Case) => pool.run(c.op, c.args as CryptoOpArgs<typeof c.op>) })),
];

const rows: Row[] = [];
for (const c of cases) {
  for (const p of placements) {
    const fn = () => p.run(c);
    const seq = await sequential(fn, c.slow === true);
    const loaded = await underLoad(fn, c.slow === true);
    const row = { label: c.label, where: p.where, ...seq, ...loaded };
    rows.push(row);
    console.log(`${c.label.padEnd(30)} ${p.where.padEnd(7)} mean ${fmt(row.seqMeanUs)} µs  p99 ${fmt(row.seqP99Us)} µs  loaded ${fmt(row.loadedOpsPerSec)} op/s  main CPU ${fmt(row.loadedMainCpuUsPerOp)} µs/op`);
  }
}

const calibrationPool = pools[pools.length - 1]?.pool as CryptoPool;
const calibration = await calibrateCrypto(calibrationPool);
const decisions = decidePlacements(parseCryptoPolicy({}), calibration);
await Promise.all(pools.map((p) => p.pool.close()));

const find = (label: string, where: string) => rows.find((r) => r.label === label && r.where === where) as Row;
const widest = placements[placements.length - 1]?.where as string;
const noopInline = find("noop", "inline");
const overhead = Object.fromEntries(
  pools.map(({ where }) => {
    const r = find("noop", where);
    return [where, {
      roundTripMeanUs: round(r.seqMeanUs), roundTripP99Us: round(r.seqP99Us),
      addedLatencyUs: round(r.seqMeanUs - noopInline.seqMeanUs), mainCpuUsPerTask: round(r.loadedMainCpuUsPerOp),
    }];
  }),
);
const crossing = spinCrossing(widest);
const breakEven = {
  cpuModelUs: round(find("noop", widest).loadedMainCpuUsPerOp),
  autoThresholdUs: round(calibration.pool.overheadCpuMicros * parseCryptoPolicy({}).margin),
  spinThroughputCrossingUs: crossing,
  note: "cpuModel: an op saves event-loop time on the pool once its inline main-thread CPU exceeds the pool's main-thread cost per task; spinThroughputCrossing: the spin size at which loaded pooled throughput (widest pool) first matches inline, interpolated (null: not within the sweep)",
};
const elapsedS = round((performance.now() - started) / 1000);

const data = { name: "crypto", machine: { ...machine(), clock: clock.kind }, config: { FAST, SLOW, quick }, elapsedS, rows, overhead, breakEven, calibration, decisions };
const md = [
  "# Crypto ops: inline vs worker pool",
  "",
  `${JSON.stringify(data.machine)} — ${elapsedS} s. Sequential = one op at a time (tinybench); loaded = ${FAST.inFlight} in flight (${SLOW.inFlight} for password ops); main CPU = main-thread CPU per op under load (${clock.kind}).`,
  "",
  table(
    ["op", "where", "seq mean µs", "seq p99 µs", "seq ops/s", "loaded ops/s", "main CPU µs/op"],
    rows.map((r) => [r.label, r.where, fmt(r.seqMeanUs), fmt(r.seqP99Us), fmt(r.seqOpsPerSec), fmt(r.loadedOpsPerSec), fmt(r.loadedMainCpuUsPerOp)]),
  ),
  "",
  "## Pool round-trip overhead (noop)",
  "",
  table(
    ["pool", "round trip mean µs", "p99 µs", "added latency µs", "main CPU µs/task"],
    Object.entries(overhead).map(([k, v]) => [k, v.roundTripMeanUs, v.roundTripP99Us, v.addedLatencyUs, v.mainCpuUsPerTask]),
  ),
  "",
  `## Break-even\n\nCPU model: ${breakEven.cpuModelUs} µs of inline main-thread CPU (pool ${widest}); auto threshold from calibration (overhead × margin 2): ${breakEven.autoThresholdUs} µs; spin sweep throughput crossing: ${crossing ?? "not within the sweep"} µs.`,
  "",
  "## auto decisions from a calibration on this machine",
  "",
  table(
    ["op", "where", "reason", "inline main CPU µs", "threshold µs"],
    Object.entries(decisions).map(([op, d]) => [op, d.where, d.reason, d.costMicros === undefined ? "" : fmt(d.costMicros), d.thresholdMicros === undefined ? "" : fmt(d.thresholdMicros)]),
  ),
].join("\n");
writeResults("crypto", data, md);

async function sequential(fn: () => Promise<unknown>, slow: boolean) {
  const bench = slow
    ? new Bench({ time: 0, iterations: SLOW.seqIterations, warmupIterations: 1, warmupTime: 0 })
    : new Bench({ time: FAST.seqMs, warmupTime: 50 });
  bench.add("op", async () => void (await fn()));
  await bench.run();
  const r = bench.tasks[0]?.result;
  if (r === undefined || r.state !== "completed") throw new Error(`bench task ${r?.state ?? "missing"}`);
  return { seqMeanUs: r.latency.mean * 1000, seqP99Us: r.latency.p99 * 1000, seqOpsPerSec: r.throughput.mean };
}

async function underLoad(fn: () => Promise<unknown>, slow: boolean) {
  const { loadedMs, inFlight } = slow ? SLOW : FAST;
  await Promise.all(Array.from({ length: inFlight }, fn));
  let done = 0;
  const cpu0 = clock.now();
  const t0 = performance.now();
  while (done === 0 || performance.now() - t0 < loadedMs) {
    await Promise.all(Array.from({ length: inFlight }, fn));
    done += inFlight;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { loadedOpsPerSec: done / seconds, loadedMainCpuUsPerOp: (clock.now() - cpu0) / done };
}

function spinCrossing(where: string): number | null {
  let prev: { micros: number; ratio: number } | null = null;
  for (const micros of SPIN_SWEEP) {
    const ratio = find(`spin ${micros} µs`, where).loadedOpsPerSec / find(`spin ${micros} µs`, "inline").loadedOpsPerSec;
    if (ratio >= 1) {
      if (prev === null) return micros;
      return round(prev.micros + ((1 - prev.ratio) / (ratio - prev.ratio)) * (micros - prev.micros));
    }
    prev = { micros, ratio };
  }
  return null;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
}
