/**
 * Why an argon2id sign-up storm hurt the event loop while a bcrypt storm did not (issue 19
 * item 5), isolated from HTTP, the database and the sign-up's own work: the main thread only
 * measures its 1-ms timer lateness while 2 (= cores, unless stated) hashers run argon2id back to back
 * (m = 64 MiB, t = 3, p = 4 unless stated). Per segment it also reads, from /proc, which threads
 * of this process spent the CPU and at what nice value, and the process's minor page faults.
 * Variants (modes interleaved over the rounds):
 *   idle                  nothing hashes
 *   async@10 (old)        worker threads at nice 10 calling @node-rs/argon2's async `hash`
 *   sync@10 (new)         worker threads at nice 10 calling `hashSync` (what the pool does now)
 *   1 × sync@10           one hasher instead of two (the pool's default argon2 limit on 2 cores)
 *   sync@0                as sync@10 at nice 0 (hashing level with the event loop)
 *   child sync@10         the same hashing in 2 separate processes at nice 10 (memory not shared)
 *   sync@10 m=4MiB        1/16 of the memory per hash: what memory traffic costs the loop
 *   bun bench/argon2-thread.ts [--seconds 4] [--rounds 3]
 */
import { parseArgs } from "node:util";
import { readdirSync, readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { ARGON2_PARAMS } from "../src/crypto/password.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "4" }, rounds: { type: "string", default: "3" } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const HASHER = new URL("./lib/argon2-hash-worker.ts", import.meta.url).pathname;
const loadAt = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const loadBefore = loadAt();
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

interface Variant { name: string; kind: "idle" | "worker" | "child"; nice: number; sync: boolean; memoryCost: number; hashers?: number }
const M = ARGON2_PARAMS.memoryCost;
const variants: Variant[] = [
  { name: "idle", kind: "idle", nice: 0, sync: true, memoryCost: M },
  { name: "async@10 (old)", kind: "worker", nice: 10, sync: false, memoryCost: M },
  { name: "sync@10 (new)", kind: "worker", nice: 10, sync: true, memoryCost: M },
  { name: "1 × sync@10", kind: "worker", nice: 10, sync: true, memoryCost: M, hashers: 1 },
  { name: "sync@0", kind: "worker", nice: 0, sync: true, memoryCost: M },
  { name: "child sync@10", kind: "child", nice: 10, sync: true, memoryCost: M },
  { name: "sync@10 m=4MiB", kind: "worker", nice: 10, sync: true, memoryCost: 4096 },
];

/** CPU ticks and nice of every thread of this process, with its name. */
function threads(): Map<string, { comm: string; nice: number; ticks: number }> {
  const out = new Map<string, { comm: string; nice: number; ticks: number }>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(tid, { comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), nice: Number(fields[16]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch { /* ended */ }
  }
  return out;
}
const minorFaults = () => Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[7]);

async function lateness(ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 1));
    out.push(performance.now() - t - 1);
  }
  return out;
}

interface Cell { lateness: number[]; hashes: number; seconds: number; faults: number; cpu: Record<string, number>; loads: string[] }
const cells = new Map<string, Cell>();
for (let r = 0; r < rounds; r++) {
  for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
    const load = loadAt();
    const before = threads();
    const faults0 = minorFaults();
    const t0 = performance.now();
    const workers: Worker[] = [];
    const children: Bun.Subprocess<"ignore", "pipe", "inherit">[] = [];
    for (let i = 0; i < (v.hashers ?? 2) && v.kind !== "idle"; i++) {
      if (v.kind === "worker") workers.push(new Worker(HASHER, { workerData: { nice: v.nice, sync: v.sync, memoryCost: v.memoryCost } }));
      else children.push(Bun.spawn([process.execPath, HASHER, "--child", String(v.nice), "sync", String(v.memoryCost)], { stdout: "pipe", stderr: "inherit" }));
    }
    await Bun.sleep(300);
    const lat = await lateness(seconds * 1000);
    let hashes = 0;
    // Read thread CPU before the workers exit (an exited thread leaves /proc/self/task).
    const after = threads();
    for (const w of workers) {
      const n = new Promise<number>((res) => w.once("message", res));
      w.postMessage("stop");
      hashes += await n;
      await w.terminate();
    }
    for (const c of children) {
      c.kill("SIGTERM");
      await c.exited;
      hashes += Number((await new Response(c.stdout).text()).trim() || 0);
    }
    const cpu: Record<string, number> = {};
    for (const [tid, a] of after) {
      const spent = a.ticks - (before.get(tid)?.ticks ?? 0);
      if (spent <= 0) continue;
      const group = tid === String(process.pid) ? "event loop" : `${a.comm.replace(/\s*\d+$/, "")} @nice ${a.nice}`;
      cpu[group] = (cpu[group] ?? 0) + spent;
    }
    const c = cells.get(v.name) ?? { lateness: [], hashes: 0, seconds: 0, faults: 0, cpu: {}, loads: [] };
    c.lateness.push(...lat);
    c.hashes += hashes;
    c.seconds += (performance.now() - t0) / 1000;
    c.faults += minorFaults() - faults0;
    for (const [g, t] of Object.entries(cpu)) c.cpu[g] = (c.cpu[g] ?? 0) + t;
    c.loads.push(load);
    cells.set(v.name, c);
    console.log(`round ${r + 1} ${v.name}: lateness p99 ${pct(lat, 99).toFixed(2)} ms, ${(hashes / ((performance.now() - t0) / 1000)).toFixed(1)} hashes/s, cpu ${JSON.stringify(cpu)} (load ${load})`);
  }
}
const loadAfter = loadAt();
const idleP99 = pct(cells.get("idle")!.lateness, 99);
const cpuText = (c: Cell) => {
  const total = Object.values(c.cpu).reduce((a, b) => a + b, 0);
  return Object.entries(c.cpu).sort((a, b) => b[1] - a[1]).map(([g, t]) => `${g} ${Math.round((100 * t) / total)}%`).join(", ");
};
const rows = [...cells].map(([name, c]) => [
  name, c.lateness.length, pct(c.lateness, 50).toFixed(3), pct(c.lateness, 99).toFixed(2), (pct(c.lateness, 99) / idleP99).toFixed(2), pct(c.lateness, 99.9).toFixed(2),
  name === "idle" ? "—" : (c.hashes / c.seconds).toFixed(1), name === "idle" || name.startsWith("child") ? "—" : (c.faults / Math.max(1, c.hashes)).toFixed(0), cpuText(c) || "—",
]);
const summary = Object.fromEntries([...cells].map(([k, c]) => {
  const { lateness: l, ...rest } = c;
  return [k, { ...rest, lateness: { count: l.length, p50: pct(l, 50), p99: pct(l, 99), p999: pct(l, 99.9), max: Math.max(...l) } }];
}));
writeResults("argon2-thread", { machine: machine(), seconds, rounds, loadBefore, loadAfter, cells: summary }, [
  "# Why argon2id hashing starved the event loop: isolated experiment",
  "",
  `Command: \`bun bench/argon2-thread.ts --seconds ${seconds} --rounds ${rounds}\` (Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, under the shared bench lock). No HTTP, database or sign-up work: the main thread only measures how late its 1-ms timers fire while 2 hashers (unless stated) run argon2id (m = 64 MiB, t = 3, p = 4, Gatehouse's parameters) back to back. Variants interleaved over ${rounds} rounds (order alternating), ${seconds} s each. Load average ${loadBefore} before, ${loadAfter} after (per-segment loads in the JSON); other developers' tests shared the 2 cores.`,
  "",
  "CPU column: this process's CPU time during the segments, by thread group (from /proc/self/task/*/stat; child processes are not in it). \"Bun Pool\" threads are the runtime's native thread pool that `napi` async work runs on.",
  "",
  table(["variant", "samples", "lateness p50 ms", "p99 ms", "p99 / idle", "p99.9 ms", "hashes/s", "minor faults / hash", "CPU by thread"], rows),
].join("\n"));
