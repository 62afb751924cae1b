/**
 * Micro-benchmarks of the auth hot path (tinybench): token issue and verify (jose, the
 * direct path, the verified-token cache), and a warm authenticated request through
 * `app.handle` next to the same route unauthenticated, with the revocation replica on and off.
 *   bun bench/auth.bench.ts
 */
import { Bench } from "tinybench";
import { Elysia } from "elysia";
import { jwtVerify } from "jose";
import { startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { loadConfig } from "../src/config/config.ts";
import { createLogger } from "../src/observability/logger.ts";
import { createServices } from "../src/services.ts";
import { assembleInstance, type Instance } from "../src/instance.ts";
import { createSessionTokens } from "../src/crypto/jwt/session-jwt.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const pg = await startPostgres();
const redis = await startRedis();
const secret = "bench-secret-key";
const rows: Array<[string, number, number, number]> = [];

function record(bench: Bench): void {
  for (const t of bench.tasks) {
    const r = t.result as unknown as { throughput?: { mean: number }; latency?: { mean: number; p99: number } };
    const hz = r.throughput?.mean ?? 0;
    rows.push([t.name, Math.round(hz), Number(((r.latency?.mean ?? 0) * 1000).toFixed(2)), Number(((r.latency?.p99 ?? 0) * 1000).toFixed(2))]);
    console.log(`${t.name}: ${Math.round(hz)} ops/s, mean ${((r.latency?.mean ?? 0) * 1000).toFixed(2)} µs`);
  }
}

try {
  const { signer, verifier } = await createSessionTokens({ alg: "HS256", secret });
  const token = await signer.sign({ id: "u1", exp: Math.floor(Date.now() / 1000) + 3600 });
  const key = new TextEncoder().encode(secret);
  const tokens = new Bench({ time: 1000, warmupTime: 200 });
  tokens
    .add("token issue (HS256, Open WebUI claims)", async () => void (await signer.sign({ id: "u1", exp: 4102444800 })))
    .add("token verify: jose jwtVerify", async () => void (await jwtVerify(token, key, { algorithms: ["HS256"] })))
    .add("token verify: direct path, uncached", async () => void (await verifier.verifyUncached(token)))
    .add("token verify: verified-token cache hit", async () => void (await verifier.verify(token)));
  await tokens.run();
  record(tokens);

  for (const replica of [true, false]) {
    const config = loadConfig({
      DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `authbench-${replica}`, WEBUI_SECRET_KEY: secret,
      GATEHOUSE_LOG_LEVEL: "silent", GATEHOUSE_REVOCATION_REPLICA: String(replica), ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
    });
    const services = await createServices(config, createLogger("silent"), { defaultMetrics: false });
    let instance: Instance | null = null;
    const routes = new Elysia()
      .get("/bench/open", () => ({ ok: true }))
      .get("/bench/authed", async ({ request }) => {
        await instance!.auth.current.verified(request);
        return { ok: true };
      });
    instance = await assembleInstance(services, [routes]);
    const fetch = instance.gatehouse.fetch;
    const signup = await fetch(new Request("http://localhost/api/v1/auths/signup", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "b", email: `b-${replica}@example.com`, password: "pw" }) }));
    const userToken = ((await signup.json()) as { token: string }).token;
    const authed = () => new Request("http://localhost/bench/authed", { headers: { authorization: `Bearer ${userToken}` } });
    const first = await fetch(authed());
    if (first.status !== 200) throw new Error(`authed route answered ${first.status} ${await first.text()} signup ${signup.status}`);
    const b = new Bench({ time: 1500, warmupTime: 300 });
    b.add(`app.handle open route (replica ${replica ? "on" : "off"})`, async () => void (await fetch(new Request("http://localhost/bench/open"))))
      .add(`app.handle warm authenticated route (replica ${replica ? "on" : "off"})`, async () => void (await fetch(authed())));
    await b.run();
    record(b);
    await instance.stop();
    await services.close();
  }
} finally {
  await stopAll();
}

writeResults("auth", { machine: machine(), rows }, [
  "# Auth hot path (tinybench, in-process)",
  "",
  table(["task", "ops/s", "mean µs", "p99 µs"], rows),
].join("\n"));
