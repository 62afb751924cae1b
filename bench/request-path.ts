/**
 * The request path against its baselines, in one run (issue 19 item 4): bare Bun.serve, bare
 * Elysia, Gatehouse's open route and its warm authenticated route, driven by wrk (-t1) in
 * interleaved rounds, medians. Gatehouse runs with its defaults: log level `info`, access log on
 * (one line per request, stdout to /dev/null). The authenticated requests cycle through 10,000
 * distinct session tokens (100 users × 100 sessions) with a wrk Lua script; every token is
 * verified once in a warm-up pass, so the figures are for warm caches.
 *   bun bench/request-path.ts [--seconds 3] [--rounds 3] [--connections 64] [--tokens 10000] [--compare <another checkout>]
 */
import { parseArgs } from "node:util";
import { readFileSync, writeFileSync } from "node:fs";
import { ensureBinaries, freePort, startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { signHs256 } from "../src/crypto/jwt/jwt-hs256.ts";
import { machine, table, writeResults } from "./lib/results.ts";
import { writeTokenCycleScript } from "./lib/wrk-token-script.ts";

const { values } = parseArgs({ options: {
  seconds: { type: "string", default: "3" }, rounds: { type: "string", default: "3" },
  connections: { type: "string", default: "64" }, tokens: { type: "string", default: "10000" },
  // Another checkout of Gatehouse (e.g. the commit before a change) measured in the same rounds.
  compare: { type: "string" },
} });
const compareRoot = values.compare ? (values.compare.endsWith("/") ? values.compare : `${values.compare}/`) : null;
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const tokenCount = Number(values.tokens);
const USERS = 100;
const SECRET = "bench-request-path-secret";
const root = new URL("..", import.meta.url).pathname;

if (Bun.spawnSync(["sh", "-c", "command -v wrk"]).exitCode !== 0) throw new Error("wrk is missing: apt-get install -y wrk");
await ensureBinaries();

async function spawnServer(cmd: string[], env: Record<string, string>, cwd = root) {
  const port = await freePort();
  const proc = Bun.spawn([...cmd.map((c) => c.replace("{port}", String(port)))], {
    cwd, env: { ...process.env, ...env, PORT: String(port) }, stdout: "ignore", stderr: "inherit",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/livez`)).ok) return { proc, base };
    } catch { /* starting */ }
    await Bun.sleep(100);
  }
  throw new Error(`${cmd.join(" ")} did not start`);
}

/** User and system CPU (µs) a process has used so far (/proc/<pid>/stat, 10 ms ticks). */
function cpuOf(pid: number): { user: number; sys: number } {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return { user: Number(f[11]) * 10_000, sys: Number(f[12]) * 10_000 };
}

/**
 * wrk with a Lua script that cycles through the token file; returns req/s, p99 ms and the
 * server's CPU per request (user and system µs; other processes' load does not inflate it).
 */
function wrk(url: string, tokenFile: string, secs: number, pid?: number): { rps: number; p99: number; userUs: number; sysUs: number } {
  const cpu0 = pid === undefined ? null : cpuOf(pid);
  const script = `/tmp/gatehouse-bench-tokens.lua`;
  writeTokenCycleScript(script, tokenFile);
  const out = Bun.spawnSync(["wrk", "-t1", `-c${connections}`, `-d${secs}s`, "--latency", "-s", script, url]).stdout.toString();
  const cpu1 = pid === undefined ? null : cpuOf(pid);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk printed no rate:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses on ${url}: ${out}`);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const scale = p99?.[2] === "us" ? 0.001 : p99?.[2] === "s" ? 1000 : 1;
  return {
    rps: Number(m[1]), p99: p99 ? Number(p99[1]) * scale : NaN,
    userUs: cpu0 && cpu1 ? (cpu1.user - cpu0.user) / requests : NaN, sysUs: cpu0 && cpu1 ? (cpu1.sys - cpu0.sys) / requests : NaN,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const loadAt = () => (Bun.spawnSync(["cat", "/proc/loadavg"]).stdout.toString().split(" ").slice(0, 3).join(" "));

const pg = await startPostgres();
const redis = await startRedis();
const servers: Array<{ proc: ReturnType<typeof Bun.spawn> }> = [];
const samples: Record<string, Array<{ rps: number; p99: number; userUs: number; sysUs: number; load: string }>> = {};
const loadBefore = loadAt();
try {
  const bun = await spawnServer([`${root}node_modules/.bin/bun`, "bench/lib/bare-server.ts", "bun", "{port}"], {});
  const elysia = await spawnServer([`${root}node_modules/.bin/bun`, "bench/lib/bare-server.ts", "elysia", "{port}"], {});
  // Gatehouse with its defaults: GATEHOUSE_LOG_LEVEL and GATEHOUSE_ACCESS_LOG unset (info, on).
  const env = { ...process.env } as Record<string, string>;
  delete env["GATEHOUSE_LOG_LEVEL"];
  delete env["GATEHOUSE_ACCESS_LOG"];
  const ghEnv = {
    ...env, DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: "bench-rp", WEBUI_SECRET_KEY: SECRET,
    ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "1000000",
  };
  const gh = await spawnServer([`${root}node_modules/.bin/bun`, "--max-http-header-size=262144", "bench/bench-server.ts"], ghEnv);
  servers.push(bun, elysia, gh);
  // Same database, same users and tokens: the compared checkout only serves.
  const before = compareRoot ? await spawnServer([`${root}node_modules/.bin/bun`, "--max-http-header-size=262144", "bench/bench-server.ts"], ghEnv, compareRoot) : null;
  if (before) servers.push(before);

  // 100 users (signed up through the API), 100 sessions each (signed with the instance's key, as sign-in would).
  const ids: string[] = [];
  for (let i = 0; i < USERS; i += 10) {
    await Promise.all(Array.from({ length: 10 }, async (_, j) => {
      const r = await fetch(`${gh.base}/api/v1/auths/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: `u${i + j}`, email: `u${i + j}@example.com`, password: "pw" }) });
      if (r.status !== 200) throw new Error(`signup ${r.status}`);
      ids[i + j] = ((await r.json()) as { id: string }).id;
    }));
  }
  const now = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(Array.from({ length: tokenCount }, (_, k) => signHs256(SECRET, { id: ids[k % USERS]!, exp: now + 3600, jti: crypto.randomUUID(), iat: now })));
  const tokenFile = "/tmp/gatehouse-bench-tokens.txt";
  writeFileSync(tokenFile, tokens.join("\n") + "\n");

  const targets: Array<[string, string, number]> = [
    ["bare Bun.serve", `${bun.base}/bench/open`, bun.proc.pid],
    ["bare Elysia", `${elysia.base}/bench/open`, elysia.proc.pid],
    ["Gatehouse open route", `${gh.base}/bench/open`, gh.proc.pid],
    ["Gatehouse authenticated (warm)", `${gh.base}/bench/authed`, gh.proc.pid],
    ...(before ? [["before: Gatehouse open route", `${before.base}/bench/open`, before.proc.pid], ["before: Gatehouse authenticated (warm)", `${before.base}/bench/authed`, before.proc.pid]] as Array<[string, string, number]> : []),
  ];
  // Warm-up: JIT on every server; every token verified once, so its caches are warm.
  for (const [, url] of targets) wrk(url, tokenFile, 1);
  for (let r = 0; r < rounds; r++) {
    for (const [name, url, pid] of targets) {
      const load = loadAt();
      const s = wrk(url, tokenFile, seconds, pid);
      (samples[name] ??= []).push({ ...s, load });
      console.log(`round ${r + 1} ${name}: ${s.rps.toFixed(0)} req/s, p99 ${s.p99.toFixed(2)} ms, server CPU ${s.userUs.toFixed(2)} user + ${s.sysUs.toFixed(2)} sys µs/request (load ${load})`);
    }
  }
} finally {
  for (const s of servers) s.proc.kill("SIGTERM");
  await Promise.all(servers.map((s) => s.proc.exited));
  await stopAll();
}

const rps = (name: string) => median(samples[name]!.map((s) => s.rps));
const cpu = (name: string) => `${median(samples[name]!.map((s) => s.userUs)).toFixed(2)} + ${median(samples[name]!.map((s) => s.sysUs)).toFixed(2)}`;
const elysiaRps = rps("bare Elysia");
const ratios = {
  openOverElysia: rps("Gatehouse open route") / elysiaRps,
  authedOverElysia: rps("Gatehouse authenticated (warm)") / elysiaRps,
  elysiaOverBun: elysiaRps / rps("bare Bun.serve"),
};
const loadAfter = loadAt();
console.log(ratios);
writeResults("request-path", { machine: machine(), seconds, rounds, connections, tokens: tokenCount, users: USERS, loadBefore, loadAfter, samples, ratios }, [
  "# The request path against bare Bun.serve and bare Elysia (wrk)",
  "",
  `wrk -t1 -c${connections} -d${seconds}s per sample, ${rounds} rounds with all targets interleaved, medians. One process each (Bun ${Bun.version}), ${navigator.hardwareConcurrency} cores shared by wrk, the servers, Postgres and Redis — and other developers' test runs: load average ${loadBefore} before, ${loadAfter} after (each sample's load is in the JSON).`,
  "",
  `- **Gatehouse configuration:** defaults — log level \`info\`, access log on (one JSON line per request, stdout to /dev/null), revocation replica on, metrics on the main port.`,
  `- **Tokens:** every request (open routes too) carries \`Authorization: Bearer\` from a cycle of ${tokenCount} distinct session tokens (${USERS} users × ${tokenCount / USERS} sessions; wrk Lua script). The token cache holds 10,000 entries.`,
  `- **Caches:** warm — a warm-up pass verified every token before the measured rounds; the authenticated route then runs token cache → revocation replica → user cache with no Redis or Postgres round trip.`,
  `- **Baselines:** bare Bun.serve (\`Response.json\`) and bare Elysia (one \`.get\` returning an object), same route, same headers.`,
  `- **Server CPU per request:** the server process's user and system CPU (\`/proc/<pid>/stat\`, 10 ms ticks) over each sample, divided by the requests wrk completed — less sensitive to other processes on the 2 cores than req/s, and it shows whether a server is CPU-bound (the bare servers are not: wrk with its Lua token script is their limit).`,
  "",
  table(["target", "req/s (median)", "p99 ms (median)", "server CPU µs/request, user + sys (median)", "limit it is measured against"], [
    ["bare Bun.serve", rps("bare Bun.serve").toFixed(0), median(samples["bare Bun.serve"]!.map((s) => s.p99)).toFixed(2), cpu("bare Bun.serve"), "—"],
    ["bare Elysia", elysiaRps.toFixed(0), median(samples["bare Elysia"]!.map((s) => s.p99)).toFixed(2), cpu("bare Elysia"), "the baseline of both targets"],
    ["Gatehouse open route", rps("Gatehouse open route").toFixed(0), median(samples["Gatehouse open route"]!.map((s) => s.p99)).toFixed(2), cpu("Gatehouse open route"), `≥ 0.8× bare Elysia: **${ratios.openOverElysia.toFixed(2)}×**`],
    ["Gatehouse authenticated (warm)", rps("Gatehouse authenticated (warm)").toFixed(0), median(samples["Gatehouse authenticated (warm)"]!.map((s) => s.p99)).toFixed(2), cpu("Gatehouse authenticated (warm)"), `≥ 0.7× bare Elysia: **${ratios.authedOverElysia.toFixed(2)}×**`],
    ...(compareRoot ? ["open route", "authenticated (warm)"].map((m) => {
      const k = `before: Gatehouse ${m}`;
      return [`${k} (${compareRoot})`, rps(k).toFixed(0), median(samples[k]!.map((s) => s.p99)).toFixed(2), cpu(k), `${(rps(k) / elysiaRps).toFixed(2)}× bare Elysia`];
    }) : []),
  ]),
].join("\n"));
