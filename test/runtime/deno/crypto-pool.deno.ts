// Runs on Deno (node:test): piscina (through node:worker_threads) and @node-rs/argon2 (N-API)
// must work on Deno as on Bun, so the crypto pool is portable.
import { test } from "node:test";
import assert from "node:assert/strict";
import vectors from "../../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { CryptoPool } from "../../../src/crypto/offload/pool.ts";
import { CryptoQueueFullError, CryptoWorkerDiedError, FernetError } from "../../../src/crypto/errors.ts";
import { CryptoService } from "../../../src/crypto/offload/crypto-service.ts";
import { readCryptoConfig } from "../../../src/config/crypto-config.ts";
import { createRegistry } from "../../../src/observability/registry.ts";

test("a password hashes and verifies through the pool on Deno", async () => {
  const pool = new CryptoPool({ threads: 1 });
  try {
    const hash = await pool.run("password.hash", { password: "correct horse" });
    assert.match(hash, /^\$argon2id\$v=19\$m=65536,t=3,p=4\$/);
    assert.equal(await pool.run("password.verify", { password: "correct horse", hash }), true);
    assert.equal(await pool.run("password.verify", { password: "wrong horse", hash }), false);
    for (const h of [vectors.argon2id_hash_of_password123, vectors.bcrypt_hash_of_password123]) {
      assert.equal(await pool.run("password.verify", { password: "password123", hash: h }), true);
    }
  } finally {
    await pool.close();
  }
});

test("expected errors keep their code; a full queue and a dead worker fail only their task", async () => {
  const pool = new CryptoPool({ threads: 1, maxQueue: 1, allowTestOps: true });
  try {
    await assert.rejects(pool.run("fernet.decrypt", { key: vectors.fernet_key_from_secret, token: "bad" }), (e: unknown) => {
      assert.ok(e instanceof FernetError);
      assert.equal(e.code, "ERR_FERNET_INVALID");
      return true;
    });
    const running = pool.run("spin", { micros: 50_000 });
    const queued = pool.run("spin", { micros: 10 });
    await assert.rejects(pool.run("spin", { micros: 10 }), CryptoQueueFullError);
    assert.deepEqual(await Promise.all([running, queued]), [50_000, 10]);
    // `exit`, not `throw`: Deno also reports an uncaught worker exception as the process's own.
    await assert.rejects(pool.run("crash", { how: "exit" }), CryptoWorkerDiedError);
    assert.equal(await pool.run("noop", null), null);
  } finally {
    await pool.close();
  }
});

test("CryptoService calibrates and routes on Deno", async () => {
  const service = await CryptoService.create({ registry: createRegistry({ defaultMetrics: false }), config: readCryptoConfig({ GATEHOUSE_CRYPTO_THREADS: "1" }), calibrate: { budgetMs: 5 } });
  try {
    const report = service.describe();
    assert.ok((report.calibration?.pool.overheadCpuMicros ?? 0) > 0);
    assert.equal(service.placementOf("password.verify"), "pool");
    assert.equal(await service.run("password.verify", { password: "password123", hash: vectors.argon2id_hash_of_password123 }), true);
  } finally {
    await service.close();
  }
});
