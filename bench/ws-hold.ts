/**
 * Idle authenticated sockets held across several server processes (issue 19, item 6): memory per
 * socket — server RSS and kernel memory — for more sockets than one process or one client can open.
 *
 *   bun bench/ws-hold.ts [--sockets 50000] [--processes 4] [--client-processes 4] [--targets 4]
 *     [--users 100] [--rate 1500] [--inflight 128] [--hold 70] [--idle-timeout 30] [--heartbeat 0]
 *     [--out ws-hold-50k]
 *
 * One supervisor with GATEHOUSE_PROCESSES=--processes (test/fixtures/ws-server.ts: the real boot
 * plus a memory probe; process i serves /metrics on GATEHOUSE_METRICS_PORT+i) on real Postgres
 * and Redis. Limits it works around, both per process or per address pair: each process may open
 * 20,000 files (hard limit here), so the sockets are spread over server and client processes; and
 * one source address reaches one destination through at most 28,232 ephemeral ports, so with
 * `--targets N` > 1 the server listens on 0.0.0.0 and the clients connect to 127.0.0.1 … 127.0.0.N
 * in turn (Linux reuses a local port for distinct destinations). The clients (bench/lib/
 * ws-hold-client.ts) open the sockets at `--rate` per second in all, each with a session token
 * at upgrade, and count one as admitted when the hub acks a frame sent after the upgrade.
 * The sockets are then held for `--hold` seconds with no traffic but the server's pings
 * (GATEHOUSE_WS_IDLE_TIMEOUT_SECONDS=--idle-timeout; a missed pong closes the socket), or Open
 * WebUI's `heartbeat` event every `--heartbeat` seconds, and counted again at the end.
 * Memory: RSS of the supervisor and its children (after a forced GC), the client processes' RSS,
 * /proc/net/sockstat, the TCP slab caches, each end's socket buffers (`ss -tm`), MemAvailable and
 * Redis's used_memory. Writes bench/results/<--out>.{json,md}.
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import Redis from "ioredis";
import { ensureBinaries, startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../test/helpers/server-process.ts";
import { machine, writeResults } from "./lib/results.ts";
import { freeConsecutivePorts } from "./lib/ports.ts";
import { childPids, kernelSnapshot, openFiles, rssBytes, socketBuffersByEnd } from "./lib/kernel-memory.ts";
import { wsHoldMarkdown, type HoldResult } from "./lib/ws-hold-report.ts";

const { values } = parseArgs({
  options: {
    sockets: { type: "string", default: "50000" },
    processes: { type: "string", default: "4" },
    "client-processes": { type: "string" },
    /** Older name of --client-processes. */
    clients: { type: "string" },
    targets: { type: "string", default: "4" },
    host: { type: "string" },
    users: { type: "string", default: "100" },
    rate: { type: "string", default: "1500" },
    inflight: { type: "string", default: "128" },
    hold: { type: "string", default: "70" },
    "idle-timeout": { type: "string", default: "30" },
    heartbeat: { type: "string", default: "0" },
    out: { type: "string", default: "ws-hold" },
  },
});

const target = Number(values.sockets);
const processes = Number(values.processes);
const clientCount = Number(values["client-processes"] ?? values.clients ?? "4");
const targets = Number(values.targets);
const host = values.host ?? (targets > 1 ? "0.0.0.0" : "127.0.0.1");
const userCount = Number(values.users);
const rate = Number(values.rate);
const holdSeconds = Number(values.hold);
const command = `bun bench/ws-hold.ts ${process.argv.slice(2).join(" ")}`.trim();

/** A client process of bench/lib/ws-hold-client.ts, spoken to by lines. */
interface ClientProc {
  proc: ReturnType<typeof Bun.spawn>;
  send(line: string): void;
  next(): Promise<Record<string, unknown>>;
}

function spawnClient(env: Record<string, string>): ClientProc {
  const proc = Bun.spawn([process.execPath, new URL("./lib/ws-hold-client.ts", import.meta.url).pathname], {
    env: { ...process.env, ...env }, stdin: "pipe", stdout: "pipe", stderr: "inherit",
  });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return {
    proc,
    send: (line) => void (proc.stdin as import("bun").FileSink).write(line + "\n"),
    async next() {
      while (!buffered.includes("\n")) {
        const r = await reader.read();
        if (r.done) throw new Error(`client ${proc.pid} exited`);
        buffered += decoder.decode(r.value, { stream: true });
      }
      const at = buffered.indexOf("\n");
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      return JSON.parse(line) as Record<string, unknown>;
    },
  };
}

/** Sums of a metric's samples per process, keyed by the sample's label text, for `/ws` sockets. */
function samples(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, "gm"))) {
    if (!m[1]!.includes('transport="ws"')) continue;
    // Without the transport and the per-process label (`process="i"`, one scrape target per process).
    const key = m[1]!.split(",").filter((l) => !l.startsWith("transport=") && !l.startsWith("process=")).join(",");
    out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return out;
}

async function main(): Promise<void> {
  const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
  const loadBefore = load();
  await ensureBinaries();
  const pg = await startPostgres();
  const redisHandle = await startRedis();
  const redis = new Redis(redisHandle.url);
  const redisMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);
  let server: ServerProcess | null = null;
  const clients: ClientProc[] = [];
  try {
    const metricsPort = await freeConsecutivePorts(processes);
    server = await startServerProcess({
      DATABASE_URL: pg.url, REDIS_URL: redisHandle.url, REDIS_KEY_PREFIX: "bench-ws-hold", WEBUI_SECRET_KEY: "bench-ws-hold-secret",
      ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn", HOST: host,
      GATEHOUSE_WS_MAX_SOCKETS_PER_USER: String(target), GATEHOUSE_WS_IDLE_TIMEOUT_SECONDS: values["idle-timeout"]!,
      GATEHOUSE_PROCESSES: String(processes), GATEHOUSE_METRICS_PORT: String(metricsPort),
    }, WS_SERVER_FIXTURE);
    const metricsUrls = Array.from({ length: processes }, (_, i) => `http://127.0.0.1:${metricsPort + i}/metrics`);
    for (const u of metricsUrls) await until(async () => (await fetch(u)).ok, 60_000);
    const pids = childPids(server.proc.pid);
    if (pids.length !== processes) throw new Error(`expected ${processes} server processes, found ${pids.length}`);
    const allServerPids = [server.proc.pid, ...pids];
    const metrics = () => Promise.all(metricsUrls.map(async (u) => await (await fetch(u)).text()));
    const authenticated = async () => (await metrics()).map((t) => samples(t, "gatehouse_ws_connections")['state="authenticated"'] ?? 0);

    const tokens: string[] = [];
    const signUp = async (i: number) => {
      const r = await fetch(`${server!.baseUrl}/api/v1/auths/signup`, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: `b${i}`, email: `bench${i}@example.com`, password: "bench-password" }),
      });
      if (r.status !== 200) throw new Error(`sign-up answered ${r.status}`);
      tokens[i] = ((await r.json()) as { token: string }).token;
    };
    for (let i = 0; i < userCount; i += 4) await Promise.all(Array.from({ length: Math.min(4, userCount - i) }, (_, k) => signUp(i + k)));

    // A forced GC in every process: /test/ws/stats collects in whichever process the kernel hands
    // the connection to, so ask on new connections (each a new source port, so a new hash).
    const gcAll = async () => {
      for (let i = 0; i < 10 * processes; i++) await fetch(`${server!.baseUrl}/test/ws/stats`, { headers: { connection: "close" } });
      await Bun.sleep(500);
    };

    const urls = Array.from({ length: targets }, (_, i) => `ws://127.0.0.${i + 1}:${server!.port}/ws`);
    const per = Math.ceil(target / clientCount);
    for (let c = 0; c < clientCount; c++) {
      clients.push(spawnClient({
        URLS: urls.join(","), TOKENS: tokens.join(","), COUNT: String(Math.max(0, Math.min(per, target - c * per))),
        RATE: String(rate / clientCount), INFLIGHT: values.inflight!, HEARTBEAT_SECONDS: values.heartbeat!, OFFSET: String(c * per),
      }));
    }
    for (const c of clients) await c.next();
    await gcAll();
    const clientPids = clients.map((c) => c.proc.pid);
    const snap = () => ({
      serverRss: allServerPids.map(rssBytes), clientRss: clientPids.map(rssBytes), kernel: kernelSnapshot(),
      fds: pids.map(openFiles), clientFds: clientPids.map(openFiles),
    });
    const before = { ...snap(), redis: await redisMemory() };

    const started = performance.now();
    for (const c of clients) c.send("go");
    const opened = await Promise.all(clients.map((c) => c.next()));
    const connectSeconds = (performance.now() - started) / 1000;
    const admitted = opened.reduce((a, r) => a + Number(r["admitted"]), 0);
    let perProcess = await authenticated();
    for (let i = 0; i < 300 && perProcess.reduce((a, b) => a + b, 0) < admitted; i++) {
      await Bun.sleep(100);
      perProcess = await authenticated();
    }
    await gcAll();
    const held = { ...snap(), redis: await redisMemory(), buffers: socketBuffersByEnd(server.port), perProcess };

    // The hold: no traffic but the server's pings (and --heartbeat); counted every 10 s.
    const timeline: HoldResult["timeline"] = [];
    const holdStart = performance.now();
    for (;;) {
      const at = (performance.now() - holdStart) / 1000;
      for (const c of clients) c.send("report");
      const reports = await Promise.all(clients.map((c) => c.next()));
      timeline.push({ at: Math.round(at), clientHeld: reports.reduce((a, r) => a + Number(r["held"]), 0), serverAuthenticated: (await authenticated()).reduce((a, b) => a + b, 0) });
      if (at >= holdSeconds) break;
      await Bun.sleep(Math.min(10_000, (holdSeconds - at) * 1000 + 50));
    }
    for (const c of clients) c.send("report");
    const finalReports = await Promise.all(clients.map((c) => c.next()));
    const texts = await metrics();
    const sumOver = (name: string) => {
      const out: Record<string, number> = {};
      for (const t of texts) for (const [k, v] of Object.entries(samples(t, name))) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const after = { ...snap(), perProcess: await authenticated() };
    const result: HoldResult = {
      command, machine: machine(), loadBefore, loadAfter: load(),
      settings: { sockets: target, processes, clientProcesses: clientCount, targets, host, users: userCount, rate, inflight: Number(values.inflight), holdSeconds, idleTimeoutSeconds: Number(values["idle-timeout"]), heartbeatSeconds: Number(values.heartbeat) },
      sysctl: sysctls(),
      connect: { seconds: connectSeconds, reports: opened },
      before, held, after, timeline, finalReports,
      serverMetrics: { authFailures: sumOver("gatehouse_ws_auth_failures_total"), closes: sumOver("gatehouse_ws_closes_total"), messages: sumOver("gatehouse_ws_messages_total") },
    };
    const md = wsHoldMarkdown(result);
    writeResults(values.out!, result, md);
    console.log(md);
  } finally {
    for (const c of clients) {
      try {
        c.send("end");
      } catch { /* gone */ }
    }
    await Promise.race([Promise.all(clients.map((c) => c.proc.exited)), Bun.sleep(10_000)]);
    for (const c of clients) c.proc.kill("SIGKILL");
    server?.kill("SIGTERM");
    if (server) await Promise.race([server.exited, Bun.sleep(20_000)]);
    server?.kill("SIGKILL");
    redis.disconnect();
    await stopAll();
  }
}

/** The kernel settings the run is bounded by. */
function sysctls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of ["net/core/somaxconn", "net/ipv4/ip_local_port_range", "net/ipv4/tcp_max_syn_backlog", "net/ipv4/tcp_mem", "net/netfilter/nf_conntrack_max", "fs/file-max", "fs/nr_open"]) {
    try {
      out[p] = readFileSync(`/proc/sys/${p}`, "utf8").trim().replace(/\s+/g, " ");
    } catch { /* absent */ }
  }
  return out;
}

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch { /* not yet */ }
    await Bun.sleep(100);
  }
  throw new Error("timed out waiting for the server");
}

await main();
