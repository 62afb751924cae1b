import { afterEach, describe, expect, test } from "bun:test";
import { CryptoPool } from "../../src/crypto/offload/pool.ts";
import { CryptoTaskTimeoutError } from "../../src/crypto/errors.ts";
import { isArgon2Task } from "../../src/crypto/offload/ops.ts";
import vectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };

let pool: CryptoPool | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

describe("argon2 concurrency on the crypto pool", () => {
  test("argon2 tasks are password.hash and verification against an argon2 hash, nothing else", () => {
    expect(isArgon2Task("password.hash", { password: "x" })).toBe(true);
    expect(isArgon2Task("password.verify", { password: "x", hash: vectors.argon2id_hash_of_password123 })).toBe(true);
    expect(isArgon2Task("password.verify", { password: "x", hash: vectors.bcrypt_hash_of_password123 })).toBe(false);
    expect(isArgon2Task("password.verify", null)).toBe(false);
    expect(isArgon2Task("spin", { micros: 1 })).toBe(false);
  });

  test("with 2 threads and a limit of 1, a second hash waits in the queue while other ops still get the free thread", async () => {
    pool = new CryptoPool({ threads: 2, argon2Concurrency: 1 });
    await pool.warmUp();
    const order: string[] = [];
    const a = pool.run("password.hash", { password: "a" }).then(() => order.push("hash a"));
    const b = pool.run("password.verify", { password: "b", hash: vectors.argon2id_hash_of_password123 }).then(() => order.push("verify b"));
    expect(pool.inFlight).toBe(2);
    expect(pool.queueDepth).toBe(1);
    // A 1-ms spin is not an argon2 task: it takes the second thread at once, ahead of the waiting verify.
    const spin = pool.run("spin", { micros: 1000 }).then(() => order.push("spin"));
    await Promise.all([a, b, spin]);
    expect(order).toEqual(["spin", "hash a", "verify b"]);
    expect(pool.queueDepth).toBe(0);
    expect(pool.inFlight).toBe(0);
  });

  test("a limit equal to the threads runs two hashes at once", async () => {
    pool = new CryptoPool({ threads: 2, argon2Concurrency: 2 });
    await pool.warmUp();
    const both = Promise.all([pool.run("password.hash", { password: "a" }), pool.run("password.hash", { password: "b" })]);
    expect(pool.queueDepth).toBe(0);
    await both;
  });

  test("hashes whose deadline passed while waiting for a slot are answered with a timeout, and leave nothing counted", async () => {
    pool = new CryptoPool({ threads: 2, argon2Concurrency: 1, taskTimeoutMs: 100 });
    // Thread start-up may take longer than the deadline: retry the warm-up (bounded).
    for (let i = 0; i < 50; i++) if (await pool.warmUp().then(() => true, () => false)) break;
    // Six 64-MiB argon2id hashes one at a time take far longer than 100 ms: the later ones time out waiting.
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => pool!.run("password.hash", { password: `p${i}` }).catch((e: unknown) => e)));
    expect(results.at(-1)).toBeInstanceOf(CryptoTaskTimeoutError);
    for (let i = 0; i < 100 && pool.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(pool.inFlight).toBe(0);
    expect(pool.queueDepth).toBe(0);
  });

  test("the limit is checked", () => {
    expect(() => new CryptoPool({ threads: 2, argon2Concurrency: 3 })).toThrow(RangeError);
    expect(() => new CryptoPool({ threads: 2, argon2Concurrency: 0 })).toThrow(RangeError);
  });
});
