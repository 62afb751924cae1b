/**
 * Session-token verification costs (DESIGN §5a): jose HS256 against the direct WebCrypto path
 * and a verified-token cache hit, plus the asymmetric algorithms through jose. Prints a table
 * and writes bench/results/jwt.json.
 *
 *   bun bench/jwt.bench.ts [--time-ms 1000]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { jwtVerify } from "jose";
import { Bench } from "tinybench";
import { deriveFernetKey, fernetDecrypt, fernetEncrypt } from "../src/crypto/fernet.ts";
import { createSessionTokens, SessionTokenVerifier } from "../src/crypto/session-jwt.ts";
import { generateSigningKey, type AsymmetricAlg } from "../src/crypto/signing-key.ts";

const SECRET = "test-webui-secret-key";
const timeArg = process.argv.indexOf("--time-ms");
const time = timeArg > 0 ? Number(process.argv[timeArg + 1]) : 1000;
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

const asymmetric = await Promise.all(
  (["EdDSA", "ES256", "RS256"] as AsymmetricAlg[]).map(async (alg) => {
    const { privateJwk } = await generateSigningKey(alg);
    const { signer, verifier } = await createSessionTokens({ alg, secret: SECRET, privateKeys: [privateJwk], cacheSize: 0 });
    return { alg, signer, verifier, token: await signer.sign(claims, now) };
  }),
);

const fernetKey = await deriveFernetKey(SECRET);
const fernetPlain = JSON.stringify({ access_token: "a".repeat(1000), id_token: "b".repeat(900) });

const bench = new Bench({ time, warmupTime: 200 });
bench
  .add("HS256 verify — jose jwtVerify (secret bytes)", async () => {
    await jwtVerify(hsToken, secretBytes, { algorithms: ["HS256"], currentDate: new Date(now * 1000) });
  })
  .add("HS256 verify — jose jwtVerify (imported CryptoKey)", async () => {
    await jwtVerify(hsToken, hsKey, { algorithms: ["HS256"], currentDate: new Date(now * 1000) });
  })
  .add("HS256 verify — direct path (no cache)", async () => {
    await direct.verify(hsToken, now);
  })
  .add("HS256 verify — cache hit (await verify)", async () => {
    await cached.verify(hsToken, now);
  })
  .add("HS256 verify — cache hit (sync cached)", () => {
    if (cached.cached(hsToken, now) === undefined) throw new Error("cache miss");
  })
  .add("HS256 sign", async () => {
    await hsSigner.sign(claims, now);
  });
for (const a of asymmetric) {
  bench.add(`${a.alg} verify — jose (no cache)`, async () => {
    await a.verifier.verify(a.token, now);
  });
}
for (const a of asymmetric) {
  bench.add(`${a.alg} sign — jose`, async () => {
    await a.signer.sign(claims, now);
  });
}
bench.add("Fernet 2 KB encrypt + decrypt", async () => {
  await fernetDecrypt(fernetKey, await fernetEncrypt(fernetKey, fernetPlain));
});

await bench.run();

const rows = bench.tasks.map((task) => {
  const r = task.result;
  if (r.state !== "completed") return { name: task.name, state: r.state };
  return {
    name: task.name,
    meanUs: round(r.latency.mean * 1000),
    p50Us: round(r.latency.p50 * 1000),
    p99Us: round(r.latency.p99 * 1000),
    opsPerSec: Math.round(r.throughput.mean),
    samples: r.latency.samplesCount,
  };
});
console.table(rows);

const runtime = typeof Bun === "undefined" ? `node-compatible ${process.version}` : `bun ${Bun.version}`;
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/jwt.json", import.meta.url),
  `${JSON.stringify({ name: "jwt", runtime, cpus: navigator.hardwareConcurrency, timeMs: time, date: new Date().toISOString(), results: rows }, null, 2)}\n`,
);
console.log("wrote bench/results/jwt.json");

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
