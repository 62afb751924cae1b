import { describe, expect, test } from "bun:test";
import vectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { CryptoQueueFullError, CryptoTaskError, CryptoWorkerDiedError } from "../../src/crypto/errors.ts";
import { CryptoService } from "../../src/crypto/offload/crypto-service.ts";
import type { FernetError } from "../../src/crypto/errors.ts";
import { CRYPTO_OP_NAMES } from "../../src/crypto/offload/ops.ts";
import type { CryptoCalibration } from "../../src/crypto/offload/policy.ts";
import { createRegistry } from "../../src/observability/registry.ts";
import { readCryptoConfig } from "../../src/config/crypto-config.ts";
import { sample } from "../helpers/metrics-text.ts";

const FERNET_KEY = vectors.fernet_key_from_secret;

/** Settles `p` and returns its rejection (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

describe("CryptoService", () => {
  const calibration: CryptoCalibration = {
    clock: "thread-cpu",
    pool: { overheadCpuMicros: 25, roundTripMicros: 40, iterations: 1000 },
    inline: { noop: { cpuMicros: 0.5, wallMicros: 0.5, iterations: 1000 }, spin: { cpuMicros: 5000, wallMicros: 5000, iterations: 10 } },
    durationMs: 1,
  };

  test("routes by policy, and records placement, timings, rejections and worker errors", async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const service = await CryptoService.create({
      registry, calibration,
      config: readCryptoConfig({ GATEHOUSE_CRYPTO_POLICY_FERNET_ENCRYPT: "pool", GATEHOUSE_CRYPTO_THREADS: "1", GATEHOUSE_CRYPTO_MAX_QUEUE: "1" }),
      pool: { allowTestOps: true },
    });
    try {
      expect(service.placementOf("spin")).toBe("pool");
      expect(service.placementOf("noop")).toBe("inline");
      expect(service.placementOf("password.verify")).toBe("pool");
      expect(service.placementOf("fernet.encrypt")).toBe("pool");
      expect(service.placementOf("fernet.decrypt")).toBe("inline");
      expect(service.describe().calibration).toBe(calibration);

      expect(await service.run("noop", null)).toBeNull();
      expect(await service.run("spin", { micros: 10 })).toBe(10);
      const inlineErr = await rejection(service.run("fernet.decrypt", { key: FERNET_KEY, token: "bad" }));
      expect((inlineErr as FernetError).code).toBe("ERR_FERNET_INVALID");

      const running = service.run("spin", { micros: 50_000 });
      const queued = service.run("spin", { micros: 10 });
      expect(await rejection(service.run("spin", { micros: 10 }))).toBeInstanceOf(CryptoQueueFullError);
      await Promise.all([running, queued]);
      expect(await rejection(service.pool!.run("crash", null))).toBeInstanceOf(CryptoWorkerDiedError);

      const text = await registry.metrics();
      expect(sample(text, "gatehouse_crypto_task_seconds_count", { op: "noop", where: "inline" })).toBe(1);
      expect(sample(text, "gatehouse_crypto_task_seconds_count", { op: "spin", where: "pool" })).toBe(4);
      expect(sample(text, "gatehouse_crypto_task_seconds_count", { op: "fernet.decrypt", where: "inline" })).toBe(1);
      expect(sample(text, "gatehouse_crypto_rejected_total", { op: "spin" })).toBe(1);
      expect(sample(text, "gatehouse_crypto_worker_errors_total", { kind: "died" })).toBe(1);
      expect(sample(text, "gatehouse_crypto_policy", { op: "spin", where: "pool" })).toBe(1);
      expect(sample(text, "gatehouse_crypto_policy", { op: "spin", where: "inline" })).toBe(0);
      expect(sample(text, "gatehouse_crypto_policy", { op: "noop", where: "inline" })).toBe(1);
      expect(sample(text, "gatehouse_crypto_calibration_seconds", { what: "pool_overhead_cpu" })).toBeCloseTo(25e-6, 12);
      expect(sample(text, "gatehouse_crypto_calibration_seconds", { what: "inline_cpu:spin" })).toBeCloseTo(5e-3, 12);
      expect(sample(text, "gatehouse_crypto_queue_depth")).toBe(0);
      expect(sample(text, "gatehouse_crypto_pool_utilization")).toBe(0);
    } finally {
      await service.close();
    }
  }, 20_000);

  test("an all-inline policy starts no pool; unexpected inline errors match pooled ones", async () => {
    const service = await CryptoService.create({ registry: createRegistry({ defaultMetrics: false }), config: readCryptoConfig({ GATEHOUSE_CRYPTO_POLICY: "inline" }) });
    expect(service.pool).toBeNull();
    expect(service.describe().calibration).toBeNull();
    expect(await service.run("password.verify", { password: "password123", hash: vectors.argon2id_hash_of_password123 })).toBe(true);
    const err = await rejection(service.run("spin", { micros: -1 }));
    expect(err).toBeInstanceOf(CryptoTaskError);
    expect((err as CryptoTaskError).errorName).toBe("RangeError");
    await service.close();
  });

  test("auto with a real calibration pools the password ops and reports every decision", async () => {
    const service = await CryptoService.create({ registry: createRegistry({ defaultMetrics: false }), config: readCryptoConfig({ GATEHOUSE_CRYPTO_THREADS: "1" }), calibrate: { budgetMs: 5 } });
    try {
      const report = service.describe();
      expect(report.pool).toEqual({ threads: 1, maxQueue: 256, argon2Concurrency: 1 });
      expect(report.calibration?.pool.overheadCpuMicros).toBeGreaterThan(0);
      expect(Object.keys(report.placements).sort()).toEqual([...CRYPTO_OP_NAMES].sort());
      expect(report.placements["password.hash"]).toEqual({ where: "pool", reason: "always-pooled" });
      expect(report.placements.noop.reason).toBe("measured");
      expect(await service.run("password.verify", { password: "password123", hash: vectors.bcrypt_hash_of_password123 })).toBe(true);
    } finally {
      await service.close();
    }
  });
});
