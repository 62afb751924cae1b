/**
 * WebSocket hub benchmark (issue 5): how many authenticated sockets one instance holds
 * (target 10,000), server memory per idle socket, and broadcast latency p50/p99 to all of them.
 *
 *   bun bench/ws.ts [--sockets 10000] [--users 10] [--rounds 5] [--batch 250] [--mode ws|socketio|both]
 *
 * `--mode both` measures raw `/ws` and Socket.IO (`/ws/socket.io`, socket.io-client 4.x,
 * websocket transport, token in the handshake `auth`) one after the other, each on a fresh
 * server process on the same Postgres and Redis, and writes them side by side to
 * bench/results/ws-socketio.{json,md}; a single mode writes bench/results/ws{,-socketio-only}.
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
import { loadavg } from "node:os";
import { ensureBinaries, startPostgres, startRedis, stopAll } from "../test/harness/services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../test/helpers/server-process.ts";
import { io, type Socket } from "socket.io-client";
import { machine, table, writeResults } from "./lib/results.ts";
import { mb, pct, post, stats } from "./lib/ws-bench.ts";

const { values } = parseArgs({
  options: {
    sockets: { type: "string", default: "10000" },
    users: { type: "string", default: "10" },
    rounds: { type: "string", default: "5" },
    batch: { type: "string", default: "250" },
    mode: { type: "string", default: "ws" },
  },
});
const target = Number(values.sockets);
const userCount = Number(values.users);
const rounds = Number(values.rounds);
const batchSize = Number(values.batch);
const modes: Mode[] = values.mode === "both" ? ["ws", "socketio"] : values.mode === "socketio" ? ["socketio"] : ["ws"];
type Mode = "ws" | "socketio";


/** Closes seen by the client, by code and reason (a socket the server closed is not held). */
const closes: Record<string, number> = {};

/** A held client socket of either kind. */
interface Held {
  close(): void;
}

/** Opens one raw `/ws` socket; resolves with it once open, or null on failure / after 30 s. */
function openSocket(url: string, onBench: (at: number) => void): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.onclose = (e) => {
      const k = `${e.code} ${e.reason}`.trim();
      closes[k] = (closes[k] ?? 0) + 1;
    };
    const timer = setTimeout(() => (ws.close(), resolve(null)), 30_000);
    ws.onopen = () => (clearTimeout(timer), resolve(ws));
    ws.onerror = () => (clearTimeout(timer), resolve(null));
    // No JSON.parse on the hot path: the client must not be the bottleneck being measured.
    ws.onmessage = (e) => {
      if (typeof e.data === "string" && e.data.startsWith('{"event":"bench"')) onBench(performance.now());
    };
  });
}

/** Opens one Socket.IO client (Open WebUI's options; its own connection); resolves once connected, or null. */
function openSioSocket(baseUrl: string, token: string, onBench: (at: number) => void): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = io(baseUrl, { path: "/ws/socket.io", transports: ["websocket"], auth: { token }, forceNew: true, reconnection: false });
    socket.on("disconnect", (reason) => {
      closes[reason] = (closes[reason] ?? 0) + 1;
    });
    const timer = setTimeout(() => (socket.close(), resolve(null)), 30_000);
    socket.once("connect", () => (clearTimeout(timer), resolve(socket)));
    socket.once("connect_error", () => (clearTimeout(timer), socket.close(), resolve(null)));
    socket.on("bench", () => onBench(performance.now()));
  });
}

/** One mode's measurements. */
interface ModeResult {
  mode: Mode;
  held: number;
  stopReason: string | null;
  closedWhileConnecting: Record<string, number>;
  serverCounters: string[];
  connectSeconds: number;
  /** The machine's 1-minute load average when the mode started (the machine may be shared). */
  loadAverage: number;
  server: { rssBefore: number; rssHeld: number; heapBefore: number; heapHeld: number };
  perSocketBytes: { rss: number; heap: number };
  broadcast: { rounds: Array<{ reached: number; p50: number; p99: number; max: number; serverLocal: number }>; p50: number; p99: number; max: number };
}

await ensureBinaries();
const pg = await startPostgres();
const redis = await startRedis();
const results: ModeResult[] = [];
try {
  for (const mode of modes) results.push(await measure(mode));
} finally {
  await stopAll();
}
const label = { ws: "raw /ws", socketio: "Socket.IO /ws/socket.io" } as const;
const md = [
  `# WebSocket hub: sockets held, memory per socket, broadcast latency (${results.map((r) => label[r.mode]).join(" vs ")})`,
  "",
  `One Gatehouse process per mode (Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores shared with the client${modes.length > 1 ? " and, during this run, with other developers' work" : ""}) on real Postgres and Redis; sockets authenticated at connect (raw: \`?token=\`; Socket.IO: handshake \`auth.token\`, websocket transport, socket.io-client ${modes.includes("socketio") ? "4.x, one connection per client" : ""}), ${userCount} users, opened in batches of ${batchSize}.`,
  "Memory is the server's growth after a forced GC, divided by the sockets held. Broadcast latency runs from just before the emit request to each frame's arrival at the client (HTTP call + fan-out + the client's own dispatch of every frame on the same machine; socket.io-client decodes every packet, so its side costs more); the first round is a warm-up.",
  "",
  `Load average (1 min) when each mode started: ${results.map((r) => `${label[r.mode]} ${r.loadAverage.toFixed(1)}`).join(", ")}.`,
  "",
  table(["transport", "sockets asked", "authenticated sockets held", "connect time", "server RSS held", "RSS per socket", "JS heap per socket", "broadcast p50 ms", "broadcast p99 ms"], results.map((r) => [
    label[r.mode], target, r.held, `${r.connectSeconds.toFixed(1)} s`, `${mb(r.server.rssBefore)} → ${mb(r.server.rssHeld)} MiB`,
    `${(r.perSocketBytes.rss / 1024).toFixed(1)} KiB`, `${(r.perSocketBytes.heap / 1024).toFixed(2)} KiB`, r.broadcast.p50.toFixed(1), r.broadcast.p99.toFixed(1),
  ])),
  ...results.filter((r) => r.stopReason).map((r) => `\n${label[r.mode]} stopped early: ${r.stopReason}.`),
  "",
  ...results.flatMap((r) => [
    `${label[r.mode]}, per round:`,
    "",
    table(["round", "reached", "p50 ms", "p99 ms", "max ms"], r.broadcast.rounds.map((x, i) => [i + 1, x.reached, x.p50.toFixed(1), x.p99.toFixed(1), x.max.toFixed(1)])),
    "",
  ]),
].join("\n");
const name = modes.length > 1 ? "ws-socketio" : modes[0] === "ws" ? "ws" : "ws-socketio-only";
writeResults(name, { machine: machine(), asked: target, users: userCount, batch: batchSize, results }, md);

/** Starts a fresh server, opens `target` sockets of `mode`, measures memory and broadcast latency, and stops it. */
async function measure(mode: Mode): Promise<ModeResult> {
  const loadAverage = loadavg()[0]!;
  let server: ServerProcess | null = null;
  const sockets: Held[] = [];
  try {
    server = await startServerProcess({
      DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: `bench-${mode}`, WEBUI_SECRET_KEY: "bench-ws-secret",
      ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
      GATEHOUSE_WS_MAX_SOCKETS_PER_USER: String(target),
    }, WS_SERVER_FIXTURE);
    const tokens: string[] = [];
    for (let i = 0; i < userCount; i++) {
      const email = `bench${i}@example.com`;
      // Both modes share the database: the second signs in the users the first created.
      let r = await post(`${server.baseUrl}/api/v1/auths/signup`, { name: `b${i}`, email, password: "pw" });
      if (r.status !== 200) r = await post(`${server.baseUrl}/api/v1/auths/signin`, { email, password: "pw" });
      tokens.push(((await r.json()) as { token: string }).token);
    }
    const before = await stats(server);
    // Closes of the previous mode's clients (its server was killed) may still be arriving.
    for (const k of Object.keys(closes)) delete closes[k];

    let receipts: number[] = [];
    const onBench = (at: number) => receipts.push(at);
    const wsBase = server.baseUrl.replace(/^http/, "ws");
    const connectStarted = performance.now();
    let stopReason: string | null = null;
    while (sockets.length < target) {
      const n = Math.min(batchSize, target - sockets.length);
      const token = (i: number) => tokens[(sockets.length + i) % tokens.length]!;
      const opened: Array<Held | null> = await Promise.all(Array.from({ length: n }, (_, i) =>
        mode === "ws" ? openSocket(`${wsBase}/ws?token=${token(i)}`, onBench) : openSioSocket(server!.baseUrl, token(i), onBench)));
      for (const s of opened) if (s) sockets.push(s);
      const failed = opened.filter((w) => w === null).length;
      if (failed > 0) {
        stopReason = `${failed} of a batch of ${n} sockets failed to open at ${sockets.length} held`;
        break;
      }
    }
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    // Every socket must be authenticated (not merely open) before it counts.
    let held = await stats(server);
    for (let i = 0; i < 300 && held.authenticated < sockets.length; i++) {
      await Bun.sleep(100);
      held = await stats(server);
    }
    console.log(`${mode}: held ${held.authenticated} authenticated sockets (asked ${target}) in ${connectSeconds.toFixed(1)} s${stopReason ? `; stopped: ${stopReason}` : ""}; closes ${JSON.stringify(closes)}`);
    // Why any socket is missing, in the server's words (auth failures and closes by reason/code).
    const serverCounters = (await (await fetch(`${server.baseUrl}/metrics`)).text())
      .split("\n").filter((l) => /^gatehouse_ws_(auth_failures|closes)_total\{/.test(l));
    if (held.authenticated < sockets.length) console.log(serverCounters.join("\n"));
    const perSocketRss = (held.rss - before.rss) / Math.max(1, held.authenticated);
    const perSocketHeap = (held.heapUsed - before.heapUsed) / Math.max(1, held.authenticated);

    const roundResults: ModeResult["broadcast"]["rounds"] = [];
    const all: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      receipts = [];
      const t0 = performance.now();
      const res = (await (await post(`${server.baseUrl}/test/ws/emit`, { to: "all", event: "bench", data: { round: r } })).json()) as { local: number };
      const deadline = performance.now() + 30_000;
      while (receipts.length < sockets.length && performance.now() < deadline) await Bun.sleep(5);
      const lat = receipts.map((at) => at - t0);
      // Round 0 warms the JIT on both sides and is not reported.
      if (r === 0) continue;
      all.push(...lat);
      roundResults.push({ reached: lat.length, p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat), serverLocal: res.local });
      console.log(`${mode} round ${r}: reached ${lat.length}/${sockets.length}, p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms`);
      await Bun.sleep(500);
    }
    return {
      mode, loadAverage, held: held.authenticated, stopReason, closedWhileConnecting: { ...closes }, serverCounters, connectSeconds,
      server: { rssBefore: before.rss, rssHeld: held.rss, heapBefore: before.heapUsed, heapHeld: held.heapUsed },
      perSocketBytes: { rss: Math.round(perSocketRss), heap: Math.round(perSocketHeap) },
      broadcast: { rounds: roundResults, p50: pct(all, 50), p99: pct(all, 99), max: Math.max(...all) },
    };
  } finally {
    for (const s of sockets) s.close();
    server?.kill("SIGKILL");
    await server?.exited;
  }
}
