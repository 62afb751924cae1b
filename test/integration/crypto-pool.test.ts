import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import vectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { calibrateCrypto } from "../../src/crypto/offload/calibration.ts";
import {
  CryptoPoolClosedError,
  CryptoQueueFullError,
  CryptoTaskError,
  CryptoTaskTimeoutError,
  CryptoWorkerDiedError,
  FernetError,
  IdTokenError,
  TokenError,
  type IdTokenErrorCode,
} from "../../src/crypto/errors.ts";
import {
  CRYPTO_OP_NAMES,
  runCryptoOp,
  type CryptoOpArgs,
  type CryptoOpName,
  type CryptoOpResult,
} from "../../src/crypto/offload/ops.ts";
import { CryptoPool, type WorkerFailureKind } from "../../src/crypto/offload/pool.ts";
import { generateSigningKey } from "../../src/crypto/jwt/signing-key.ts";
import { ServiceError } from "../../src/errors.ts";

const SECRET = "test-webui-secret-key";
const FERNET_KEY = vectors.fernet_key_from_secret;
const JWT_NOW = vectors.jwt_with_exp_decoded.iat + 10;

/** Settles `p` and returns its rejection (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

describe("inline and pooled runs give the same results", () => {
  let pool: CryptoPool;
  beforeAll(() => {
    pool = new CryptoPool({ threads: 2 });
  });
  afterAll(() => pool.close());

  const covered = new Set<CryptoOpName>();
  const both = async <N extends CryptoOpName>(op: N, args: CryptoOpArgs<N>) => {
    covered.add(op);
    return Promise.all([runCryptoOp(op, args) as Promise<CryptoOpResult<N>>, pool.run(op, args)]);
  };

  test("noop and spin", async () => {
    expect(await both("noop", null)).toEqual([null, null]);
    expect(await both("spin", { micros: 300 })).toEqual([300, 300]);
  });

  test("fernet.encrypt reproduces the Open WebUI token byte for byte in both places", async () => {
    const args = { key: FERNET_KEY, plaintext: vectors.fernet_plaintext, now: 1767225600, iv: new Uint8Array(16) };
    expect(await both("fernet.encrypt", args)).toEqual([vectors.fernet_token_fixed, vectors.fernet_token_fixed]);
  });

  test("fernet.decrypt, and each side decrypts the other's random-IV tokens", async () => {
    expect(await both("fernet.decrypt", { key: FERNET_KEY, token: vectors.fernet_token_fixed })).toEqual([
      vectors.fernet_plaintext, vectors.fernet_plaintext,
    ]);
    const [a, b] = await both("fernet.encrypt", { key: FERNET_KEY, plaintext: "Zoë 😀" });
    expect(await pool.run("fernet.decrypt", { key: FERNET_KEY, token: a })).toBe("Zoë 😀");
    expect(await runCryptoOp("fernet.decrypt", { key: FERNET_KEY, token: b })).toBe("Zoë 😀");
  });

  test("password.verify on the Open WebUI vectors", async () => {
    for (const hash of [vectors.bcrypt_hash_of_password123, vectors.argon2id_hash_of_password123]) {
      expect(await both("password.verify", { password: "password123", hash })).toEqual([true, true]);
      expect(await both("password.verify", { password: "password124", hash })).toEqual([false, false]);
    }
    expect(await both("password.verify", { password: "x", hash: "garbage" })).toEqual([false, false]);
  });

  test("password.hash: each side verifies the other's hash", async () => {
    const [inline, pooled] = await both("password.hash", { password: "s3cret" });
    expect(pooled.startsWith("$argon2id$v=19$m=65536,t=3,p=4$")).toBe(true);
    expect(await pool.run("password.verify", { password: "s3cret", hash: inline })).toBe(true);
    expect(await runCryptoOp("password.verify", { password: "s3cret", hash: pooled })).toBe(true);
  });

  test("jwt.sign HS256 reproduces the Open WebUI token; jwt.verify returns its claims", async () => {
    const sign = { alg: "HS256" as const, key: SECRET, claims: vectors.jwt_with_exp_decoded };
    expect(await both("jwt.sign", sign)).toEqual([vectors.jwt_with_exp, vectors.jwt_with_exp]);
    const verify = { alg: "HS256" as const, key: SECRET, token: vectors.jwt_with_exp, now: JWT_NOW };
    expect(await both("jwt.verify", verify)).toEqual([vectors.jwt_with_exp_decoded, vectors.jwt_with_exp_decoded]);
  });

  test("jwt.sign EdDSA (deterministic) is identical; tokens verify across sides", async () => {
    const { privateJwk } = await generateSigningKey("EdDSA");
    const claims = { id: "u1", exp: 4102444800, jti: "j1", iat: 1767225600 };
    const [a, b] = await both("jwt.sign", { alg: "EdDSA", key: privateJwk, claims });
    expect(a).toBe(b);
    const verify = { alg: "EdDSA" as const, key: privateJwk, token: a, now: 1767225610 };
    expect(await both("jwt.verify", verify)).toEqual([claims, claims]);
  });

  test("idtoken.verify checks a provider token against its JWKS on both sides; refusals keep their code", async () => {
    const { generateKeyPair, exportJWK, SignJWT } = await import("jose");
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] };
    const now = 1767225600;
    const token = await new SignJWT({ sub: "user-1", nonce: "n" }).setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer("https://idp.test").setAudience("gatehouse").setIssuedAt(now).setExpirationTime(now + 600).sign(privateKey);
    const args = { jwks, token, issuer: "https://idp.test", audience: "gatehouse", now: now + 10 };
    const [a, b] = await both("idtoken.verify", args);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ sub: "user-1", iss: "https://idp.test", aud: "gatehouse" });
    const refusals: Array<[CryptoOpArgs<"idtoken.verify">, IdTokenErrorCode]> = [
      [{ ...args, audience: "someone-else" }, "ERR_IDTOKEN_CLAIMS"],
      [{ ...args, now: now + 601 }, "ERR_IDTOKEN_CLAIMS"],
      [{ ...args, jwks: { keys: [{ ...jwks.keys[0]!, kid: "other" }] } }, "ERR_IDTOKEN_KEY_UNKNOWN"],
      [{ ...args, token: token.slice(0, -4) + "AAAA" }, "ERR_IDTOKEN_SIGNATURE"],
    ];
    for (const [bad, code] of refusals) {
      for (const err of [await rejection(runCryptoOp("idtoken.verify", bad)), await rejection(pool.run("idtoken.verify", bad))]) {
        expect(err).toBeInstanceOf(IdTokenError);
        expect((err as IdTokenError).code).toBe(code);
      }
    }
  });

  test("every op in the table was compared above", () => {
    expect([...covered].sort()).toEqual([...CRYPTO_OP_NAMES].sort());
  });

  test("an expected error keeps its class and code across the thread boundary", async () => {
    const inline = await rejection(runCryptoOp("fernet.decrypt", { key: FERNET_KEY, token: "gAAAA-not-a-token" }));
    const pooled = await rejection(pool.run("fernet.decrypt", { key: FERNET_KEY, token: "gAAAA-not-a-token" }));
    for (const err of [inline, pooled]) {
      expect(err).toBeInstanceOf(FernetError);
      expect((err as FernetError).code).toBe("ERR_FERNET_INVALID");
    }
    const expired = await rejection(pool.run("jwt.verify", { alg: "HS256", key: SECRET, token: vectors.jwt_expired }));
    expect(expired).toBeInstanceOf(TokenError);
    expect((expired as TokenError).code).toBe("ERR_TOKEN_EXPIRED");
  });

  test("an unexpected error fails only its task as CryptoTaskError, without its message", async () => {
    const err = await rejection(pool.run("spin", { micros: -1 }));
    expect(err).toBeInstanceOf(CryptoTaskError);
    expect((err as CryptoTaskError).code).toBe("ERR_CRYPTO_TASK_FAILED");
    expect((err as CryptoTaskError).status).toBe(500);
    expect((err as CryptoTaskError).errorName).toBe("RangeError");
    expect(await pool.run("noop", null)).toBeNull();
  });

  test("test ops are refused unless the pool allows them", async () => {
    const err = await rejection(pool.run("crash", null));
    expect(err).toBeInstanceOf(CryptoTaskError);
    expect(await pool.run("noop", null)).toBeNull();
  });
});

describe("pool failure isolation", () => {
  test("a full queue rejects at once with CryptoQueueFullError, Retry-After 1", async () => {
    const pool = new CryptoPool({ threads: 1, maxQueue: 1 });
    try {
      const running = pool.run("spin", { micros: 100_000 });
      const queued = pool.run("spin", { micros: 10 });
      const err = await rejection(pool.run("spin", { micros: 10 }));
      expect(err).toBeInstanceOf(CryptoQueueFullError);
      expect(err).toBeInstanceOf(ServiceError);
      expect((err as ServiceError).code).toBe("ERR_CRYPTO_QUEUE_FULL");
      expect((err as ServiceError).status).toBe(503);
      expect((err as ServiceError).retryAfterSeconds).toBe(1);
      expect(await Promise.all([running, queued])).toEqual([100_000, 10]);
      expect(await pool.run("noop", null)).toBeNull();
    } finally {
      await pool.close();
    }
  });

  for (const how of ["exit", "throw"] as const) {
    test(`a worker that dies (${how}) fails only its task; the next task succeeds`, async () => {
      const failures: WorkerFailureKind[] = [];
      const pool = new CryptoPool({ threads: 2, allowTestOps: true, onWorkerError: (k) => failures.push(k) });
      try {
        const bystander = pool.run("spin", { micros: 50_000 });
        const err = await rejection(pool.run("crash", { how }));
        expect(err).toBeInstanceOf(CryptoWorkerDiedError);
        expect((err as ServiceError).code).toBe("ERR_CRYPTO_WORKER_DIED");
        expect((err as ServiceError).status).toBe(503);
        expect(await bystander).toBe(50_000);
        expect(await pool.run("noop", null)).toBeNull();
        expect(await Promise.all([pool.run("spin", { micros: 10 }), pool.run("spin", { micros: 10 })])).toEqual([10, 10]);
        expect(failures).toEqual(["died"]);
      } finally {
        await pool.close();
      }
    }, 20_000);
  }

  test("with one thread, a crash fails only the crashed task; queued work runs on the replacement", async () => {
    const pool = new CryptoPool({ threads: 1, allowTestOps: true });
    try {
      const crashed = rejection(pool.run("crash", null));
      const queued = pool.run("spin", { micros: 10 });
      expect(await crashed).toBeInstanceOf(CryptoWorkerDiedError);
      expect(await queued).toBe(10);
    } finally {
      await pool.close();
    }
  }, 20_000);

  test("a task past its deadline is answered with CryptoTaskTimeoutError", async () => {
    const failures: WorkerFailureKind[] = [];
    const pool = new CryptoPool({ threads: 1, taskTimeoutMs: 40, onWorkerError: (k) => failures.push(k) });
    try {
      const err = await rejection(pool.run("spin", { micros: 400_000 }));
      expect(err).toBeInstanceOf(CryptoTaskTimeoutError);
      expect((err as ServiceError).status).toBe(503);
      expect(failures).toEqual(["timeout"]);
    } finally {
      await pool.close();
    }
  });

  test("close() drains queued and running work, then refuses new tasks", async () => {
    const pool = new CryptoPool({ threads: 1, maxQueue: 8 });
    const tasks = [pool.run("spin", { micros: 30_000 }), pool.run("spin", { micros: 30_000 }), pool.run("noop", null)];
    expect(pool.inFlight).toBe(3);
    const closing = pool.close();
    expect(pool.closed).toBe(true);
    expect(await rejection(pool.run("noop", null))).toBeInstanceOf(CryptoPoolClosedError);
    await closing;
    expect(await Promise.all(tasks)).toEqual([30_000, 30_000, null]);
    expect(pool.inFlight).toBe(0);
    expect(pool.close()).toBe(closing);
  });

  test("queueDepth and utilization reflect the work", async () => {
    const pool = new CryptoPool({ threads: 1, maxQueue: 4 });
    try {
      expect([pool.queueDepth, pool.utilization]).toEqual([0, 0]);
      const tasks = [pool.run("spin", { micros: 50_000 }), pool.run("noop", null), pool.run("noop", null)];
      expect(pool.queueDepth).toBeGreaterThanOrEqual(1);
      expect(pool.utilization).toBeGreaterThan(0);
      await Promise.all(tasks);
      expect([pool.queueDepth, pool.utilization]).toEqual([0, 0]);
    } finally {
      await pool.close();
    }
  });
});

test("a real calibration run has the documented shape", async () => {
  const pool = new CryptoPool({ threads: 1 });
  try {
    const c = await calibrateCrypto(pool, { budgetMs: 10 });
    expect(["thread-cpu", "process-cpu"]).toContain(c.clock);
    expect(c.pool.overheadCpuMicros).toBeGreaterThan(0);
    expect(c.pool.roundTripMicros).toBeGreaterThan(0);
    expect(c.pool.iterations).toBeGreaterThanOrEqual(5);
    expect(Object.keys(c.inline).sort()).toEqual(["fernet.decrypt", "fernet.encrypt", "idtoken.verify", "jwt.sign", "jwt.verify", "noop", "spin"]);
    for (const m of Object.values(c.inline)) {
      expect(m.cpuMicros).toBeGreaterThanOrEqual(0);
      expect(m.wallMicros).toBeGreaterThan(0);
      expect(m.iterations).toBeGreaterThanOrEqual(5);
    }
    expect(c.inline.spin?.wallMicros).toBeGreaterThanOrEqual(200);
    expect(c.durationMs).toBeGreaterThan(0);
  } finally {
    await pool.close();
  }
});
