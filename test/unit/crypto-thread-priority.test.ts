import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { CryptoPool } from "../../src/crypto/offload/pool.ts";

/** Nice value and CPU time (utime + stime, clock ticks) of every thread of this process, by tid. */
function threadStats(): Map<number, { nice: number; cpuTicks: number }> {
  const out = new Map<number, { nice: number; cpuTicks: number }>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      // The command name (field 2) may hold spaces; fields after its ')' are space-separated
      // and start at field 3: utime is field 14, stime 15, nice 19.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(tid), { nice: Number(fields[16]), cpuTicks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // thread ended meanwhile
    }
  }
  return out;
}

/** Nice value of every thread of this process, by tid. */
function threadNices(): Map<number, number> {
  return new Map([...threadStats()].map(([tid, s]) => [tid, s.nice]));
}

let pool: CryptoPool | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

describe("crypto worker thread priority", () => {
  test("each worker thread runs at GATEHOUSE_CRYPTO_NICE; the event loop's thread keeps its own", async () => {
    const before = threadNices();
    pool = new CryptoPool({ threads: 2, nice: 7 });
    // Tasks run only once a worker module finished loading (and lowered itself).
    await Promise.all([pool.run("fernet_encrypt" as never, null as never).catch(() => {}), pool.run("fernet_encrypt" as never, null as never).catch(() => {})]);
    const after = threadNices();
    const lowered = [...after].filter(([tid, nice]) => !before.has(tid) && nice === 7);
    expect(lowered.length).toBe(2);
    expect(after.get(process.pid)).toBe(before.get(process.pid)!);
  });

  test("a pooled argon2id hash and verify spend their CPU on the niced worker thread, not on a native pool at the process's priority", async () => {
    pool = new CryptoPool({ threads: 1, nice: 9 });
    await pool.warmUp();
    const before = threadStats();
    for (let i = 0; i < 5; i++) {
      const hash = await pool.run("password.hash", { password: `pw-${i}` });
      expect(await pool.run("password.verify", { password: `pw-${i}`, hash })).toBe(true);
    }
    let niced = 0;
    let total = 0;
    for (const [tid, after] of threadStats()) {
      const spent = after.cpuTicks - (before.get(tid)?.cpuTicks ?? 0);
      total += spent;
      if (after.nice === 9) niced += spent;
    }
    // Ten argon2id ops at m = 64 MiB, t = 3 are ≥ 30 ms of CPU each wherever they run (clock ticks are 10 ms).
    expect(total).toBeGreaterThan(10);
    expect(niced / total).toBeGreaterThan(0.8);
  });

  test("nice 0 leaves the worker threads at the process's priority", async () => {
    // Only threads started by this pool: on Deno the previous test's closed workers may linger.
    const before = threadNices();
    pool = new CryptoPool({ threads: 1, nice: 0 });
    await pool.run("fernet_encrypt" as never, null as never).catch(() => {});
    const started = [...threadNices()].filter(([tid]) => !before.has(tid));
    expect(started.length).toBeGreaterThan(0);
    expect(started.filter(([, n]) => n !== 0).length).toBe(0);
  });
});
