/**
 * Session-token costs (DESIGN §5a): jose HS256 against the direct WebCrypto path and a
 * verified-token cache hit, the asymmetric algorithms through jose, and Fernet for reference.
 * Two views per operation:
 * - latency: tinybench, one operation at a time (dominated by WebCrypto's thread hop);
 * - loaded: 64 operations in flight, as under HTTP load — wall time per operation, and CPU
 *   per operation for the whole process and for the main thread alone (Linux /proc), which is
 *   what decides inline vs worker pool.
 * Prints a table and writes bench/results/jwt.json.
 *
 *   bun bench/jwt.bench.ts [--time-ms 1000]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { jwtVerify } from "jose";
import { Bench } from "tinybench";
import { deriveFernetKey, fernetDecrypt, fernetEncrypt } from "../src/crypto/fernet.ts";
import { createSessionTokens, SessionTokenVerifier } from "../src/crypto/jwt/session-jwt.ts";
import { generateSigningKey, type AsymmetricAlg } from "../src/crypto/jwt/signing-key.ts";

const SECRET = "test-webui-secret-key";
const IN_FLIGHT = 64;
const timeArg = process.argv.indexOf("--time-ms");
const timeMs = timeArg > 0 ? Number(process.argv[timeArg + 1]) : 1000;
// One fixed "now" so that every iteration verifies the same, valid token.
const now = Math.floor(Date.now() / 1000);
const claims = { id: "3f1c2b9e-0000-4000-8000-000000000001", exp: now + 3600 };

const { signer: hsSigner } = await createSessionTokens({ alg: "HS256", secret: SECRET });
const hsToken = await hsSigner.sign(claims, now);
const secretBytes = new TextEncoder().encode(SECRET);
const hsKey = await crypto.subtle.importKey("raw", secretBytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
const direct = new SessionTokenVerifier({ alg: "HS256", secret: SECRET }, { cacheSize: 0 });
const cached = new SessionTokenVerifier({ alg: "HS256", secret: SECRET });
await cached.verify(hsToken, now);
const joseOpts = { algorithms: ["HS256"], currentDate: new Date(now * 1000) };

const asymmetric = await Promise.all(
  (["EdDSA", "ES256", "RS256"] as AsymmetricAlg[]).map(async (alg) => {
    const { privateJwk } = await generateSigningKey(alg);
    const tokens = await createSessionTokens({ alg, secret: SECRET, privateKeys: [privateJwk], cacheSize: 0 });
    return { alg, ...tokens, token: await tokens.signer.sign(claims, now) };
  }),
);

const fernetKey = await deriveFernetKey(SECRET);
const fernetPlain = JSON.stringify({ access_token: "a".repeat(1000), id_token: "b".repeat(900) });

const ops: { name: string; fn: () => unknown }[] = [
  { name: "HS256 verify — jose jwtVerify (secret bytes)", fn: () => jwtVerify(hsToken, secretBytes, joseOpts) },
  { name: "HS256 verify — jose jwtVerify (imported key)", fn: () => jwtVerify(hsToken, hsKey, joseOpts) },
  { name: "HS256 verify — direct path, no cache", fn: () => direct.verify(hsToken, now) },
  { name: "HS256 verify — cache hit (await verify)", fn: () => cached.verify(hsToken, now) },
  { name: "HS256 verify — cache hit (sync cached)", fn: () => cached.cached(hsToken, now) ?? fail() },
  { name: "HS256 sign", fn: () => hsSigner.sign(claims, now) },
  ...asymmetric.map((a) => ({ name: `${a.alg} verify — jose, no cache`, fn: () => a.verifier.verify(a.token, now) })),
  ...asymmetric.map((a) => ({ name: `${a.alg} sign — jose`, fn: () => a.signer.sign(claims, now) })),
  { name: "Fernet 2 KB encrypt + decrypt", fn: async () => fernetDecrypt(fernetKey, await fernetEncrypt(fernetKey, fernetPlain)) },
];

const bench = new Bench({ time: timeMs, warmupTime: 200 });
for (const op of ops) bench.add(op.name, async () => void (await op.fn()));
await bench.run();

const rows = [];
for (const task of bench.tasks) {
  const op = ops.find((o) => o.name === task.name);
  const r = task.result;
  if (op === undefined || r.state !== "completed") {
    rows.push({ name: task.name, state: r.state });
    continue;
  }
  rows.push({
    name: task.name,
    latencyMeanUs: us(r.latency.mean),
    latencyP50Us: us(r.latency.p50),
    latencyP99Us: us(r.latency.p99),
    opsPerSec: Math.round(r.throughput.mean),
    ...(await loaded(op.fn, Math.max(200, timeMs / 2))),
  });
}
console.table(rows);

const runtime = typeof Bun === "undefined" ? `node-compatible ${process.version}` : `bun ${Bun.version}`;
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/jwt.json", import.meta.url),
  `${JSON.stringify(
    { name: "jwt", runtime, cpus: navigator.hardwareConcurrency, timeMs, inFlight: IN_FLIGHT, date: new Date().toISOString(), results: rows },
    null,
    2,
  )}\n`,
);
console.log("wrote bench/results/jwt.json");

/** Runs `fn` with IN_FLIGHT concurrent calls for about `ms`; per-operation wall and CPU time. */
async function loaded(fn: () => unknown, ms: number) {
  let done = 0;
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await Promise.all(Array.from({ length: IN_FLIGHT }, fn));
    done += IN_FLIGHT;
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuMs();
  return {
    loadedWallUs: round((wallMs * 1000) / done),
    loadedCpuUs: round((cpu.user + cpu.system) / done),
    loadedMainThreadCpuUs: main0 === null || main1 === null ? null : round(((main1 - main0) * 1000) / done),
  };
}

/** The main thread's user+system CPU in ms from /proc (10 ms ticks), or null off Linux. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

function us(ms: number): number {
  return round(ms * 1000);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function fail(): never {
  throw new Error("cache miss");
}
