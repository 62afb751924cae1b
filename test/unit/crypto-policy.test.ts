import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/errors.ts";
import { CRYPTO_OP_NAMES } from "../../src/crypto/offload/ops.ts";
import { decidePlacement, decidePlacements, type CryptoCalibration } from "../../src/crypto/offload/policy.ts";
import { CRYPTO_POLICY_OPS, parseCryptoPolicy, policyVariableFor, readCryptoConfig } from "../../src/config/crypto-config.ts";

/** The pool settings of `env` (threads, queue bound, OS priority). */
const cryptoPoolSettingsFromEnv = (env: Record<string, string>) => {
  const { threads, maxQueue, nice, argon2Concurrency } = readCryptoConfig(env);
  return { threads, maxQueue, nice, argon2Concurrency };
};

// The offload policy is pure: env → policy, (policy, calibration) → placements. The pool and a
// real calibration run are covered in test/integration/crypto-pool.test.ts.

describe("policy parsing", () => {
  test("the configuration names exactly the op table's ops, in order", () => {
    expect([...CRYPTO_POLICY_OPS]).toEqual([...CRYPTO_OP_NAMES]);
  });

  test("defaults: auto, margin 2, no overrides", () => {
    expect(parseCryptoPolicy({})).toEqual({ mode: "auto", overrides: {}, margin: 2 });
  });

  const good: Array<[Record<string, string>, unknown]> = [
    [{ GATEHOUSE_CRYPTO_POLICY: "inline" }, { mode: "inline", overrides: {}, margin: 2 }],
    [{ GATEHOUSE_CRYPTO_POLICY: " POOL " }, { mode: "pool", overrides: {}, margin: 2 }],
    [{ GATEHOUSE_CRYPTO_POLICY: "" }, { mode: "auto", overrides: {}, margin: 2 }],
    [{ GATEHOUSE_CRYPTO_POLICY_PASSWORD_HASH: "inline" }, { mode: "auto", overrides: { "password.hash": "inline" }, margin: 2 }],
    [
      { GATEHOUSE_CRYPTO_POLICY: "pool", GATEHOUSE_CRYPTO_POLICY_JWT_VERIFY: "auto", GATEHOUSE_CRYPTO_POLICY_FERNET_DECRYPT: "Inline" },
      { mode: "pool", overrides: { "jwt.verify": "auto", "fernet.decrypt": "inline" }, margin: 2 },
    ],
    [{ GATEHOUSE_CRYPTO_POLICY_NOOP: "  " }, { mode: "auto", overrides: {}, margin: 2 }],
    [{ GATEHOUSE_CRYPTO_AUTO_MARGIN: "1.5" }, { mode: "auto", overrides: {}, margin: 1.5 }],
  ];
  for (const [env, expected] of good) {
    test(`accepts ${JSON.stringify(env)}`, () => {
      expect(parseCryptoPolicy(env)).toEqual(expected as never);
    });
  }

  const bad: Array<[Record<string, string>, string]> = [
    [{ GATEHOUSE_CRYPTO_POLICY: "threads" }, "GATEHOUSE_CRYPTO_POLICY"],
    [{ GATEHOUSE_CRYPTO_POLICY_PASSWORD_HASH: "sometimes" }, "GATEHOUSE_CRYPTO_POLICY_PASSWORD_HASH"],
    [{ GATEHOUSE_CRYPTO_POLICY_PASWORD_HASH: "inline" }, "GATEHOUSE_CRYPTO_POLICY_PASWORD_HASH"],
    [{ GATEHOUSE_CRYPTO_POLICY_CRASH: "pool" }, "GATEHOUSE_CRYPTO_POLICY_CRASH"],
    [{ GATEHOUSE_CRYPTO_AUTO_MARGIN: "0.5" }, "GATEHOUSE_CRYPTO_AUTO_MARGIN"],
    [{ GATEHOUSE_CRYPTO_AUTO_MARGIN: "two" }, "GATEHOUSE_CRYPTO_AUTO_MARGIN"],
  ];
  for (const [env, variable] of bad) {
    test(`rejects ${JSON.stringify(env)} naming ${variable}`, () => {
      let caught: unknown;
      try {
        parseCryptoPolicy(env);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).variable).toBe(variable);
      expect((caught as ConfigError).message).not.toContain(Object.values(env)[0] as string);
    });
  }

  test("every op has an override variable", () => {
    expect(CRYPTO_OP_NAMES.map(policyVariableFor)).toContain("GATEHOUSE_CRYPTO_POLICY_PASSWORD_VERIFY");
    for (const op of CRYPTO_OP_NAMES) {
      expect(parseCryptoPolicy({ [policyVariableFor(op)]: "pool" }).overrides[op]).toBe("pool");
    }
  });

  test("pool settings: threads and queue bound from env, ConfigError when out of range", () => {
    expect(cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_THREADS: "3", GATEHOUSE_CRYPTO_MAX_QUEUE: "0" })).toEqual({ threads: 3, maxQueue: 0, nice: 10, argon2Concurrency: 1 });
    expect(cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_NICE: "0" }).nice).toBe(0);
    expect(() => cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_NICE: "20" })).toThrow(ConfigError);
    expect(cryptoPoolSettingsFromEnv({}).maxQueue).toBe(256);
    expect(cryptoPoolSettingsFromEnv({}).threads).toBeGreaterThanOrEqual(1);
    expect(() => cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_THREADS: "0" })).toThrow(ConfigError);
    expect(() => cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_MAX_QUEUE: "-1" })).toThrow(ConfigError);
  });

  test("argon2 concurrency: half the threads by default (at least 1), at most the threads", () => {
    expect(cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_THREADS: "1" }).argon2Concurrency).toBe(1);
    expect(cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_THREADS: "2" }).argon2Concurrency).toBe(1);
    expect(cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_THREADS: "16" }).argon2Concurrency).toBe(8);
    expect(cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_THREADS: "4", GATEHOUSE_CRYPTO_ARGON2_CONCURRENCY: "4" }).argon2Concurrency).toBe(4);
    expect(() => cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_THREADS: "2", GATEHOUSE_CRYPTO_ARGON2_CONCURRENCY: "3" })).toThrow(ConfigError);
    expect(() => cryptoPoolSettingsFromEnv({ GATEHOUSE_CRYPTO_ARGON2_CONCURRENCY: "0" })).toThrow(ConfigError);
  });
});

describe("placement decisions", () => {
  const calibration: CryptoCalibration = {
    clock: "thread-cpu",
    pool: { overheadCpuMicros: 25, roundTripMicros: 40, iterations: 1000 },
    inline: {
      noop: { cpuMicros: 0.5, wallMicros: 0.5, iterations: 1000 },
      spin: { cpuMicros: 5000, wallMicros: 5000, iterations: 10 },
      "fernet.encrypt": { cpuMicros: 30, wallMicros: 55, iterations: 100 },
    },
    durationMs: 300,
  };
  const auto = parseCryptoPolicy({});

  test("auto pools spin(5000 µs) and keeps noop inline", () => {
    expect(decidePlacement(auto, calibration, "spin")).toEqual({ where: "pool", reason: "measured", costMicros: 5000, thresholdMicros: 50 });
    expect(decidePlacement(auto, calibration, "noop")).toEqual({ where: "inline", reason: "measured", costMicros: 0.5, thresholdMicros: 50 });
  });

  test("the margin decides a cost between 1× and 2× the overhead", () => {
    expect(decidePlacement(auto, calibration, "fernet.encrypt").where).toBe("inline");
    expect(decidePlacement(parseCryptoPolicy({ GATEHOUSE_CRYPTO_AUTO_MARGIN: "1" }), calibration, "fernet.encrypt").where).toBe("pool");
  });

  test("password ops are pooled under auto whatever calibration says; an explicit inline wins", () => {
    const cheap: CryptoCalibration = { ...calibration, inline: { "password.verify": { cpuMicros: 1, wallMicros: 80_000, iterations: 3 } } };
    expect(decidePlacement(auto, cheap, "password.verify")).toEqual({ where: "pool", reason: "always-pooled" });
    expect(decidePlacement(auto, null, "password.hash")).toEqual({ where: "pool", reason: "always-pooled" });
    const inlineHash = parseCryptoPolicy({ GATEHOUSE_CRYPTO_POLICY_PASSWORD_HASH: "inline" });
    expect(decidePlacement(inlineHash, calibration, "password.hash")).toEqual({ where: "inline", reason: "configured" });
  });

  test("configured modes ignore calibration; unmeasured auto ops stay inline", () => {
    const decisions = decidePlacements(parseCryptoPolicy({ GATEHOUSE_CRYPTO_POLICY: "pool", GATEHOUSE_CRYPTO_POLICY_SPIN: "inline" }), calibration);
    expect(decisions.spin).toEqual({ where: "inline", reason: "configured" });
    expect(decisions.noop).toEqual({ where: "pool", reason: "configured" });
    expect(decidePlacement(auto, calibration, "jwt.verify")).toEqual({ where: "inline", reason: "uncalibrated" });
  });
});
