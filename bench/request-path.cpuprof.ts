/**
 * Bun's sampling CPU profiler on the Gatehouse bench server under wrk (issue 19 item 4): one
 * server per route, default log level (`info`, access log on), 10,000 distinct tokens, warm
 * caches; the profile covers start-up, warm-up and the measured run (analyse its last --seconds).
 * Writes Chrome-format profiles (`<route>.cpuprofile`) to --out, one per route; results and how
 * they were read: bench/results/request-path-cpu.md.
 *   bun bench/request-path.cpuprof.ts [--seconds 5] [--tokens 10000] [--out /tmp/gatehouse-cpuprof] [--interval 100]
 */
import { parseArgs } from "node:util";
import { mkdirSync, writeFileSync } from "node:fs";
import { freePort, startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { signHs256 } from "../src/crypto/jwt/jwt-hs256.ts";
import { writeTokenCycleScript } from "./lib/wrk-token-script.ts";

const { values } = parseArgs({ options: {
  seconds: { type: "string", default: "5" }, tokens: { type: "string", default: "10000" },
  out: { type: "string", default: "/tmp/gatehouse-cpuprof" }, interval: { type: "string", default: "100" },
  // Comma-separated: which of the bench server's routes to profile.
  routes: { type: "string", default: "open,authed" },
} });
const root = new URL("..", import.meta.url).pathname;
const SECRET = "bench-request-path-secret";
const USERS = 100;
mkdirSync(values.out!, { recursive: true });

const pg = await startPostgres();
const redis = await startRedis();
try {
  for (const route of values.routes!.split(",")) {
    const env = { ...process.env } as Record<string, string>;
    delete env["GATEHOUSE_LOG_LEVEL"];
    delete env["GATEHOUSE_ACCESS_LOG"];
    const port = await freePort();
    const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "--cpu-prof", `--cpu-prof-dir=${values.out}`, `--cpu-prof-name=${route}.cpuprofile`, `--cpu-prof-interval=${values.interval}`,
      "--max-http-header-size=262144", "bench/bench-server.ts"], {
      cwd: root, stdout: "ignore", stderr: "inherit",
      env: { ...env, PORT: String(port), DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `cpuprof-${route}`, WEBUI_SECRET_KEY: SECRET, ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "1000000" },
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300; i++) {
      try { if ((await fetch(`${base}/livez`)).ok) break; } catch { /* starting */ }
      await Bun.sleep(100);
    }
    const ids: string[] = [];
    for (let i = 0; i < USERS; i++) {
      const r = await fetch(`${base}/api/v1/auths/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: `u${i}`, email: `u${i}-${route}@example.com`, password: "pw" }) });
      ids.push(((await r.json()) as { id: string }).id);
    }
    const now = Math.floor(Date.now() / 1000);
    const tokens = await Promise.all(Array.from({ length: Number(values.tokens) }, (_, k) => signHs256(SECRET, { id: ids[k % USERS]!, exp: now + 3600, jti: crypto.randomUUID(), iat: now })));
    writeFileSync("/tmp/gatehouse-cpuprof-tokens.txt", tokens.join("\n") + "\n");
    writeTokenCycleScript("/tmp/gatehouse-cpuprof.lua", "/tmp/gatehouse-cpuprof-tokens.txt");
    const run = (secs: string) => Bun.spawnSync(["wrk", "-t1", "-c64", `-d${secs}s`, "-s", "/tmp/gatehouse-cpuprof.lua", `${base}/bench/${route}`]).stdout.toString();
    run("2");
    const out = run(values.seconds!);
    console.log(route, /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1], "req/s");
    proc.kill("SIGINT");
    await proc.exited;
  }
} finally {
  await stopAll();
}
