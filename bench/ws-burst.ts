/**
 * The raw /ws connect-burst bench (issue 19): sockets authenticate at upgrade, a socket leaves the
 * live set on its close event, refusals are counted, kernel TCP memory is read; results in
 * bench/results/ws-burst-run.{json,md}. bench/ws.ts is the raw-vs-Socket.IO comparison.
 *
 * WebSocket hub benchmark (issue 5): how many authenticated sockets one instance holds
 * (target 10,000), server memory per idle socket, and broadcast latency p50/p99 to all of them.
 *
 *   bun bench/ws-burst.ts [--sockets 10000] [--users 10] [--rounds 5] [--batch 250]
 *
 * One Gatehouse process (test/fixtures/ws-server.ts: the real boot plus an emit route and a
 * memory probe) on real Postgres and Redis; this process is the client. Sockets authenticate
 * at upgrade with `?token=` in batches; if the machine cannot open more (errors, a batch
 * stuck for 30 s), the run stops there and reports what it held. Memory per socket is the
 * server's RSS (and JS heap) growth after a forced GC, divided by the sockets held.
 * Broadcast latency is measured per socket from just before the emit request to the frame's
 * arrival here, so it includes the HTTP call, the server's fan-out and this client's own
 * event dispatch for every socket, all on the same machine.
 */
import { parseArgs } from "node:util";
import { ensureBinaries, startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../test/helpers/server-process.ts";
import { machine, table, writeResults } from "./lib/results.ts";
import { mb, pct, post, stats } from "./lib/ws-bench.ts";

const { values } = parseArgs({
  options: {
    sockets: { type: "string", default: "10000" },
    users: { type: "string", default: "10" },
    rounds: { type: "string", default: "5" },
    batch: { type: "string", default: "250" },
  },
});
const target = Number(values.sockets);
const userCount = Number(values.users);
const rounds = Number(values.rounds);
const batchSize = Number(values.batch);
const root = new URL("..", import.meta.url).pathname;


/** Closes seen by the client, by code and reason (a socket the server closed is not held). */
const closes: Record<string, number> = {};
/** Sockets open right now: a socket leaves this set the moment its close is seen, so nothing waits on it. */
const live = new Set<WebSocket>();

/** Opens one socket; resolves with it once open, or null when it failed, closed first, or after 30 s. */
function openSocket(url: string, onBench: (at: number) => void): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => (ws.close(), resolve(null)), 30_000);
    ws.onclose = (e) => {
      const k = `${e.code} ${e.reason}`.trim();
      closes[k] = (closes[k] ?? 0) + 1;
      live.delete(ws);
      clearTimeout(timer);
      resolve(null); // no-op once it resolved open
    };
    ws.onopen = () => (clearTimeout(timer), live.add(ws), resolve(ws));
    ws.onerror = () => (clearTimeout(timer), resolve(null));
    // No JSON.parse on the hot path: the client must not be the bottleneck being measured.
    ws.onmessage = (e) => {
      if (typeof e.data === "string" && e.data.startsWith('{"event":"bench"')) onBench(performance.now());
    };
  });
}

const loadAt = () => Bun.spawnSync(["cat", "/proc/loadavg"]).stdout.toString().split(" ").slice(0, 3).join(" ");
const loadBefore = loadAt();
/** Kernel TCP memory, machine-wide, in bytes (/proc/net/sockstat "TCP: ... mem <pages>"). */
const tcpKernelBytes = () => Number(/TCP:.*\bmem (\d+)/.exec(Bun.spawnSync(["cat", "/proc/net/sockstat"]).stdout.toString())?.[1] ?? NaN) * 4096;
await ensureBinaries();
const pg = await startPostgres();
const redis = await startRedis();
let server: ServerProcess | null = null;
const sockets: WebSocket[] = [];
try {
  server = await startServerProcess({
    DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: "bench-ws", WEBUI_SECRET_KEY: "bench-ws-secret",
    ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
    GATEHOUSE_WS_MAX_SOCKETS_PER_USER: String(target),
  }, WS_SERVER_FIXTURE);
  const tokens: string[] = [];
  for (let i = 0; i < userCount; i++) {
    const r = await post(`${server.baseUrl}/api/v1/auths/signup`, { name: `b${i}`, email: `bench${i}@example.com`, password: "pw" });
    tokens.push(((await r.json()) as { token: string }).token);
  }
  const before = await stats(server);
  const kernelBefore = tcpKernelBytes();

  let receipts: number[] = [];
  const onBench = (at: number) => receipts.push(at);
  const wsBase = server.baseUrl.replace(/^http/, "ws");
  const connectStarted = performance.now();
  let stopReason: string | null = null;
  let refusedAtOpen = 0;
  let attempted = 0;
  while (attempted < target) {
    const n = Math.min(batchSize, target - attempted);
    const first = attempted;
    attempted += n;
    const opened = await Promise.all(Array.from({ length: n }, (_, i) => openSocket(`${wsBase}/ws?token=${tokens[(first + i) % tokens.length]}`, onBench)));
    for (const ws of opened) if (ws) sockets.push(ws);
    const failed = opened.filter((w) => w === null).length;
    refusedAtOpen += failed;
    // A whole batch failing means the machine cannot open more: stop there and report it.
    if (failed === n) {
      stopReason = `a whole batch of ${n} sockets failed to open at ${sockets.length} held`;
      break;
    }
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  // Every socket must be authenticated (not merely open) before it counts.
  let held = await stats(server);
  for (let i = 0; i < 300 && held.authenticated < live.size; i++) {
    await Bun.sleep(100);
    held = await stats(server);
  }
  console.log(`held ${held.authenticated} authenticated sockets (asked ${target}) in ${connectSeconds.toFixed(1)} s${stopReason ? `; stopped: ${stopReason}` : ""}; closes ${JSON.stringify(closes)}`);
  // Why any socket is missing, in the server's words (auth failures and closes by reason/code).
  const serverCounters = (await (await fetch(`${server.baseUrl}/metrics`)).text())
    .split("\n").filter((l) => /^gatehouse_ws_(auth_failures|closes)_total\{/.test(l));
  if (held.authenticated < sockets.length) console.log(serverCounters.join("\n"));
  const perSocketRss = (held.rss - before.rss) / Math.max(1, held.authenticated);
  // Both ends are on this machine: the growth covers 2 sockets per connection (and anything else the machine did meanwhile).
  const kernelPerSocket = (tcpKernelBytes() - kernelBefore) / Math.max(1, 2 * held.authenticated);
  const perSocketHeap = (held.heapUsed - before.heapUsed) / Math.max(1, held.authenticated);

  const roundResults: Array<{ reached: number; p50: number; p99: number; max: number; serverLocal: number }> = [];
  const all: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    receipts = [];
    const t0 = performance.now();
    const res = (await (await post(`${server.baseUrl}/test/ws/emit`, { to: "all", event: "bench", data: { round: r } })).json()) as { local: number };
    const deadline = performance.now() + 30_000;
    // Only sockets still open can receive: a socket closed by the server is never waited for.
    while (receipts.length < live.size && performance.now() < deadline) await Bun.sleep(5);
    const lat = receipts.map((at) => at - t0);
    // Round 0 warms the JIT on both sides and is not reported.
    if (r === 0) continue;
    all.push(...lat);
    roundResults.push({ reached: lat.length, p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat), serverLocal: res.local });
    console.log(`round ${r}: reached ${lat.length}/${live.size}, p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms`);
    await Bun.sleep(500);
  }

  const result = {
    machine: machine(),
    loadBefore,
    loadAfter: loadAt(),
    batch: batchSize,
    asked: target,
    held: held.authenticated,
    stopReason,
    refusedAtOpen,
    closedAfterOpen: sockets.length - live.size,
    closedWhileConnecting: { ...closes },
    serverCounters,
    users: userCount,
    connectSeconds,
    server: { rssBefore: before.rss, rssHeld: held.rss, heapBefore: before.heapUsed, heapHeld: held.heapUsed },
    perSocketBytes: { rss: Math.round(perSocketRss), heap: Math.round(perSocketHeap), kernelTcp: Math.round(kernelPerSocket) },
    broadcast: { rounds: roundResults, p50: pct(all, 50), p99: pct(all, 99), max: Math.max(...all) },
  };
  const md = [
    "# WebSocket hub: sockets held, memory per socket, broadcast latency",
    "",
    `One Gatehouse process (Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores shared with the client and other developers' test runs; load average ${loadBefore} before, ${loadAt()} after) on real Postgres and Redis; log level warn.`,
    `Sockets authenticate at upgrade (\`?token=\`, ${userCount} users, one token each; GATEHOUSE_WS_MAX_SOCKETS_PER_USER raised to ${target}), so the anonymous-socket caps (GATEHOUSE_WS_ANON_PER_CLIENT/ANON_MAX) never apply; opened in batches of ${batchSize} all at once; user cache cold at the first batch.`,
    `Refused at open: ${refusedAtOpen}; closed by the server after open: ${sockets.length - live.size}; closes seen: ${JSON.stringify(closes)}.`,
    "Memory is the server's growth after a forced GC, divided by the sockets held. Broadcast latency runs from just before the emit request to each frame's arrival at the client (HTTP call + fan-out + the client's own dispatch of every frame on the same machine); the first round is a warm-up.",
    "",
    table(["sockets asked", "authenticated sockets held", "connect time", "server RSS held", "RSS per socket", "JS heap per socket", "kernel TCP memory per socket"], [[
      target, held.authenticated, `${connectSeconds.toFixed(1)} s`, `${mb(before.rss)} → ${mb(held.rss)} MiB`, `${(perSocketRss / 1024).toFixed(1)} KiB`, `${(perSocketHeap / 1024).toFixed(2)} KiB`, `${(kernelPerSocket / 1024).toFixed(1)} KiB`,
    ]]),
    "",
    "Kernel TCP memory is /proc/net/sockstat `TCP mem` growth (machine-wide, pages × 4 KiB) divided by 2 × sockets (client and server ends are both on this machine); idle sockets hold almost no buffers.",
    ...(stopReason ? ["", `Stopped early: ${stopReason}.`] : []),
    "",
    table(["round", "reached", "p50 ms", "p99 ms", "max ms"], roundResults.map((r, i) => [i + 1, r.reached, r.p50.toFixed(1), r.p99.toFixed(1), r.max.toFixed(1)])),
    "",
    `All rounds: p50 ${result.broadcast.p50.toFixed(1)} ms, p99 ${result.broadcast.p99.toFixed(1)} ms to ${held.authenticated} sockets.`,
  ].join("\n");
  writeResults("ws-burst-run", result, md);
} finally {
  for (const ws of sockets) ws.close();
  server?.kill("SIGKILL");
  await stopAll();
}
