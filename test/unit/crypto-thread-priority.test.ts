import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { CryptoPool } from "../../src/crypto/offload/pool.ts";

/** Nice value of every thread of this process, by tid (field 19 of /proc/self/task/<tid>/stat). */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      // The command name (field 2) may hold spaces; fields after its ')' are space-separated.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(tid), Number(fields[16]));
    } catch {
      // thread ended meanwhile
    }
  }
  return out;
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
