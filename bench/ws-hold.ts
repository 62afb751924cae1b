/**
 * Idle authenticated sockets held across several server processes (issue 19, item 6): memory per
 * socket, server RSS and kernel memory, for more sockets than one process or one client can open.
 *
 *   bun bench/ws-hold.ts [--sockets 50000] [--processes 2] [--clients 3] [--users 20] [--batch 500]
 *
 * One supervisor with GATEHOUSE_PROCESSES=N (test/fixtures/ws-server.ts: the real boot plus a
 * memory probe; process i serves /metrics on GATEHOUSE_METRICS_PORT+i) on real Postgres and Redis.
 * The sockets are opened by `--clients` child processes of this script (each process is held to
 * the machine's open-file hard limit), `?token=` authentication at upgrade, in batches. Counted:
 * sockets authenticated per server process (`gatehouse_ws_connections{state="authenticated"}`),
 * refusals and closes seen by the clients. Memory: the server processes' summed RSS growth
 * (after a forced GC, triggered through /test/ws/stats on new connections until every process
 * has collected), and kernel memory from /proc/net/sockstat (TCP buffer pages) and, where
 * readable, /proc/slabinfo (the socket, inode, file, dentry and epoll objects each connection
 * allocates). Both ends of every connection are on this machine, so kernel growth is divided
 * by 2 × sockets. Writes bench/results/ws-hold.{json,md}.
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { ensureBinaries, startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../test/helpers/server-process.ts";
import { machine, table, writeResults } from "./lib/results.ts";
import { freeConsecutivePorts } from "./lib/ports.ts";

const { values } = parseArgs({
  options: {
    sockets: { type: "string", default: "50000" },
    processes: { type: "string", default: "2" },
    clients: { type: "string", default: "3" },
    users: { type: "string", default: "20" },
    batch: { type: "string", default: "500" },
    // Internal: this process is one of the clients.
    client: { type: "boolean", default: false },
  },
});

// ------------------------------------------------------------------------------------------ client

/**
 * A client process: opens COUNT sockets to WS_URL with TOKENS round-robin in batches, prints one
 * JSON line with what it held, then holds them until stdin closes.
 */
async function runClient(): Promise<void> {
  const url = process.env["WS_URL"]!;
  const tokens = process.env["TOKENS"]!.split(",");
  const count = Number(process.env["COUNT"]);
  const batch = Number(values.batch);
  const closes: Record<string, number> = {};
  const held = new Set<WebSocket>();
  let failed = 0;
  const open = (token: string) => new Promise<void>((resolve) => {
    const ws = new WebSocket(`${url}?token=${token}`);
    const timer = setTimeout(() => (ws.close(), failed++, resolve()), 30_000);
    ws.onopen = () => (clearTimeout(timer), held.add(ws), resolve());
    ws.onerror = () => (clearTimeout(timer), failed++, resolve());
    ws.onclose = (e) => {
      const k = `${e.code} ${e.reason}`.trim();
      closes[k] = (closes[k] ?? 0) + 1;
      held.delete(ws);
      clearTimeout(timer);
      resolve();
    };
  });
  const started = performance.now();
  for (let at = 0; at < count; at += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - at) }, (_, i) => open(tokens[(at + i) % tokens.length]!)));
  }
  console.log(JSON.stringify({ held: held.size, failed, closes, seconds: (performance.now() - started) / 1000 }));
  for await (const _ of Bun.stdin.stream()) { /* hold until the parent closes stdin */ }
  for (const ws of held) ws.close();
  process.exit(0);
}

// ------------------------------------------------------------------------------------------ bench

async function runBench(): Promise<void> {
  const target = Number(values.sockets);
  const processes = Number(values.processes);
  const clientCount = Number(values.clients);
  const userCount = Number(values.users);
  const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
  const loadBefore = load();
  await ensureBinaries();
  const pg = await startPostgres();
  const redis = await startRedis();
  let server: ServerProcess | null = null;
  const clients: Array<ReturnType<typeof Bun.spawn>> = [];
  try {
    const metricsPort = await freeConsecutivePorts(processes);
    server = await startServerProcess({
      DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: "bench-ws-hold", WEBUI_SECRET_KEY: "bench-ws-hold-secret",
      ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
      GATEHOUSE_WS_MAX_SOCKETS_PER_USER: String(target),
      GATEHOUSE_PROCESSES: String(processes), GATEHOUSE_METRICS_PORT: String(metricsPort),
    }, WS_SERVER_FIXTURE);
    const metricsUrls = Array.from({ length: processes }, (_, i) => `http://127.0.0.1:${metricsPort + i}/metrics`);
    for (const u of metricsUrls) await until(async () => (await fetch(u)).ok, 30_000);
    const pids = childPids(server.proc.pid);
    if (pids.length !== processes) throw new Error(`expected ${processes} server processes, found ${pids.length}`);

    const tokens: string[] = [];
    for (let i = 0; i < userCount; i++) {
      const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: `b${i}`, email: `bench${i}@example.com`, password: "bench-password" }),
      });
      if (r.status !== 200) throw new Error(`sign-up answered ${r.status}`);
      tokens.push(((await r.json()) as { token: string }).token);
    }

    const authenticated = async () => {
      const per = await Promise.all(metricsUrls.map(async (u) => {
        const m = /gatehouse_ws_connections\{[^}]*state="authenticated"[^}]*transport="ws"[^}]*\} (\S+)/.exec(await (await fetch(u)).text());
        return m ? Number(m[1]) : 0;
      }));
      return per;
    };
    // A forced GC in every process: /test/ws/stats collects in whichever process the kernel hands
    // the connection to, so ask on new connections until each process's RSS has been read after one.
    const gcAll = async () => {
      for (let i = 0; i < 8 * processes; i++) await fetch(`${server!.baseUrl}/test/ws/stats`, { headers: { connection: "close" } });
      await Bun.sleep(300);
    };
    await gcAll();
    const rssBefore = pids.map(rssBytes);
    const kernelBefore = kernel();

    const wsUrl = `${server.baseUrl.replace(/^http/, "ws")}/ws`;
    const per = Math.ceil(target / clientCount);
    const started = performance.now();
    const reports = await Promise.all(Array.from({ length: clientCount }, async (_, c) => {
      const count = Math.min(per, target - c * per);
      const child = Bun.spawn([process.execPath, import.meta.path, "--client", "--batch", String(values.batch)], {
        env: { ...process.env, WS_URL: wsUrl, TOKENS: tokens.join(","), COUNT: String(count) },
        stdin: "pipe", stdout: "pipe", stderr: "inherit",
      });
      clients.push(child);
      const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
      let text = "";
      while (!text.includes("\n")) {
        const r = await reader.read();
        if (r.done) break;
        text += new TextDecoder().decode(r.value);
      }
      return JSON.parse(text.trim() || "{}") as { held: number; failed: number; closes: Record<string, number>; seconds: number };
    }));
    const connectSeconds = (performance.now() - started) / 1000;
    const clientHeld = reports.reduce((a, r) => a + (r.held ?? 0), 0);
    let perProcess = await authenticated();
    for (let i = 0; i < 300 && perProcess.reduce((a, b) => a + b, 0) < clientHeld; i++) {
      await Bun.sleep(100);
      perProcess = await authenticated();
    }
    const held = perProcess.reduce((a, b) => a + b, 0);
    await gcAll();
    const rssHeld = pids.map(rssBytes);
    const kernelHeld = kernel();
    const loadAfter = load();

    const rssGrowth = rssHeld.reduce((a, b) => a + b, 0) - rssBefore.reduce((a, b) => a + b, 0);
    const perSocket = (bytes: number) => bytes / Math.max(1, held);
    const perEnd = (bytes: number) => bytes / Math.max(1, 2 * held);
    const tcpBuffers = kernelHeld.tcpMemBytes - kernelBefore.tcpMemBytes;
    const slab = kernelHeld.slabBytes === null || kernelBefore.slabBytes === null ? null : kernelHeld.slabBytes - kernelBefore.slabBytes;
    const result = {
      machine: machine(), loadBefore, loadAfter, asked: target, processes, clients: clientCount, users: userCount, batch: Number(values.batch),
      held, perProcess, clientReports: reports, connectSeconds,
      server: { pids, rssBefore, rssHeld },
      kernel: { before: kernelBefore, held: kernelHeld },
      perSocketBytes: {
        serverRss: Math.round(perSocket(rssGrowth)),
        kernelTcpBuffersPerEnd: Math.round(perEnd(tcpBuffers)),
        kernelSlabPerEnd: slab === null ? null : Math.round(perEnd(slab)),
      },
    };
    const kib = (b: number | null) => (b === null ? "unreadable" : `${(b / 1024).toFixed(1)} KiB`);
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    const serverSide = perSocket(rssGrowth) + perEnd(tcpBuffers) + (slab === null ? 0 : perEnd(slab));
    const md = [
      "# Idle authenticated sockets across server processes",
      "",
      `Command: \`bun bench/ws-hold.ts --sockets ${target} --processes ${processes} --clients ${clientCount} --users ${userCount} --batch ${values.batch}\`. ` +
        `One supervisor, GATEHOUSE_PROCESSES=${processes} (test/fixtures/ws-server.ts: the real boot plus a memory probe), real Postgres and Redis, log level warn; ` +
        `${userCount} users, one token each, sockets authenticate at upgrade (\`?token=\`, GATEHOUSE_WS_MAX_SOCKETS_PER_USER=${target}); user cache cold at the first batch; ` +
        `opened by ${clientCount} client processes in batches of ${values.batch}. Machine: ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, shared with other developers; load average ${loadBefore} before, ${loadAfter} after.`,
      "",
      table(["sockets asked", "authenticated held (per process)", "client-side refused / closed", "connect time", "server RSS (sum)", "server RSS per socket", "kernel TCP buffers per socket end", "kernel slab per socket end", "server side per socket (RSS + one end's kernel memory)"], [[
        target, `${held} (${perProcess.join(" + ")})`,
        `${reports.reduce((a, r) => a + (r.failed ?? 0), 0)} / ${JSON.stringify(Object.assign({}, ...reports.map((r) => r.closes ?? {})))}`,
        `${connectSeconds.toFixed(1)} s`,
        `${mib(rssBefore.reduce((a, b) => a + b, 0))} → ${mib(rssHeld.reduce((a, b) => a + b, 0))}`,
        kib(perSocket(rssGrowth)), kib(perEnd(tcpBuffers)), kib(slab === null ? null : perEnd(slab)), kib(serverSide),
      ]]),
      "",
      "RSS is read from /proc/<pid>/status of each server process after a forced GC. Kernel TCP buffers: /proc/net/sockstat `TCP mem` growth (pages × 4 KiB); kernel slab: growth of the /proc/slabinfo caches a TCP connection allocates (" + SLAB_CACHES.join(", ") + "), machine-wide, so other work on the machine during the run lands in it too. Both divided by 2 × sockets (client and server ends are both on this machine).",
    ].join("\n");
    writeResults("ws-hold", result, md);
    console.log(md);
  } finally {
    for (const c of clients) {
      try {
        (c.stdin as import("bun").FileSink).end();
      } catch { /* gone */ }
      c.kill("SIGKILL");
    }
    server?.kill("SIGTERM");
    if (server) await Promise.race([server.exited, Bun.sleep(15_000)]);
    server?.kill("SIGKILL");
    await stopAll();
  }
}

/** The slab caches one TCP connection's socket, file and epoll registration allocate. */
const SLAB_CACHES = ["TCP", "TCPv6", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "eventpoll_pwq", "request_sock_TCP"];

function kernel(): { tcpMemBytes: number; tcpInuse: number; slabBytes: number | null } {
  const sockstat = readFileSync("/proc/net/sockstat", "utf8");
  const m = /TCP: inuse (\d+).*\bmem (\d+)/.exec(sockstat);
  let slabBytes: number | null = null;
  try {
    slabBytes = 0;
    for (const line of readFileSync("/proc/slabinfo", "utf8").split("\n")) {
      const f = line.split(/\s+/);
      if (SLAB_CACHES.includes(f[0]!)) slabBytes += Number(f[1]) * Number(f[3]);
    }
  } catch {
    slabBytes = null;
  }
  return { tcpMemBytes: Number(m?.[2] ?? 0) * 4096, tcpInuse: Number(m?.[1] ?? 0), slabBytes };
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
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

// Last: the constants above must be initialised before either role runs.
if (values.client) await runClient();
else await runBench();
