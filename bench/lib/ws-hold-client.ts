/**
 * One client process of bench/ws-hold.ts: opens COUNT `/ws` sockets, each with a session token at
 * upgrade, and holds them. Driven by lines on stdin and answering JSON lines on stdout:
 *
 *   (start)   → {"ready": true}
 *   go        → opens the sockets at RATE per second, at most INFLIGHT not yet admitted, cycling
 *               over the URLS (one per loopback destination) and TOKENS; then {"opened": …}
 *   report    → {"held": …} (sockets open now, closes since the start, by code)
 *   end       → closes them and exits
 *
 * A socket counts as admitted when the server acks a `heartbeat` frame sent right after the
 * upgrade (the hub holds frames until the token check settles, and answers an unauthenticated
 * socket with an error instead), refused when it is closed or answered with an error first.
 * With HEARTBEAT_SECONDS > 0 every socket also sends Open WebUI's `heartbeat` event at that
 * interval while held (spread evenly); 0 leaves them idle, kept alive by the server's pings.
 */
const env = (name: string) => process.env[name] ?? "";
const urls = env("URLS").split(",");
const tokens = env("TOKENS").split(",");
const count = Number(env("COUNT"));
const rate = Number(env("RATE"));
const inflightCap = Number(env("INFLIGHT"));
const heartbeatSeconds = Number(env("HEARTBEAT_SECONDS") || "0");
/** Offsets this process's sockets in the token cycle, so processes do not all start with token 0. */
const offset = Number(env("OFFSET") || "0");

const held = new Set<WebSocket>();
const closes: Record<string, number> = {};
let admitted = 0;
let refused = 0;
let failed = 0;
const refusedBy: Record<string, number> = {};
const connectMs: number[] = [];
let heartbeatsSent = 0;
let heartbeatErrors = 0;
/** `error` events on admitted sockets (a refused heartbeat, say). */
let errorsAfterAdmission = 0;

const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + "\n");

/** Opens one socket; resolves once it is admitted, refused or failed. */
function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const started = performance.now();
    const ws = new WebSocket(`${urls[i % urls.length]}?token=${tokens[(i + offset) % tokens.length]}`);
    let settled = false;
    const settle = (outcome: "admitted" | "refused" | "failed", why = "") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome === "admitted") {
        admitted++;
        connectMs.push(performance.now() - started);
      } else if (outcome === "refused") {
        refused++;
        refusedBy[why] = (refusedBy[why] ?? 0) + 1;
      } else failed++;
      resolve();
    };
    const timer = setTimeout(() => (ws.close(), settle("failed")), 60_000);
    ws.onopen = () => {
      held.add(ws);
      ws.send(JSON.stringify({ event: "heartbeat", data: {}, id: 1 }));
    };
    ws.onmessage = (e) => {
      const frame = JSON.parse(String(e.data)) as { event: string; id?: number; data?: { code?: string } };
      if (settled) {
        if (frame.event === "error") errorsAfterAdmission++;
        return;
      }
      if (frame.event === "ack" && frame.id === 1) settle("admitted");
      else if (frame.event === "error") settle("refused", frame.data?.code ?? "error");
    };
    ws.onerror = () => settle("failed");
    ws.onclose = (e) => {
      held.delete(ws);
      const k = `${e.code} ${e.reason}`.trim();
      closes[k] = (closes[k] ?? 0) + 1;
      settle("refused", k);
    };
  });
}

/** Opens `count` sockets at `rate` per second with at most `inflightCap` unsettled. */
async function openAll(): Promise<void> {
  const started = performance.now();
  let next = 0;
  let inflight = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      while (next < due && inflight < inflightCap) {
        inflight++;
        void open(next++).then(() => {
          inflight--;
          if (next >= count && inflight === 0) done();
        });
      }
      if (next < count) setTimeout(tick, 5);
    };
    if (count === 0) done();
    else tick();
  });
  const sorted = connectMs.sort((a, b) => a - b);
  const p = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  say({ opened: true, admitted, refused, refusedBy, failed, held: held.size, seconds: (performance.now() - started) / 1000, admitMs: { p50: p(0.5), p99: p(0.99), max: p(1) } });
}

/** Open WebUI's `heartbeat` on every held socket every `heartbeatSeconds`, spread over the interval. */
function startHeartbeats(): void {
  if (heartbeatSeconds <= 0) return;
  const slices = 20;
  let slice = 0;
  setInterval(() => {
    let i = 0;
    for (const ws of held) {
      if (i++ % slices !== slice) continue;
      try {
        ws.send(JSON.stringify({ event: "heartbeat", data: {} }));
        heartbeatsSent++;
      } catch {
        heartbeatErrors++;
      }
    }
    slice = (slice + 1) % slices;
  }, (heartbeatSeconds * 1000) / slices);
}

say({ ready: true });
let buffered = "";
for await (const chunk of Bun.stdin.stream()) {
  buffered += new TextDecoder().decode(chunk);
  let nl: number;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const command = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (command === "go") void openAll().then(startHeartbeats);
    else if (command === "report") say({ held: held.size, closes, heartbeatsSent, heartbeatErrors, errorsAfterAdmission });
    else if (command === "end") {
      for (const ws of held) ws.close();
      process.exit(0);
    }
  }
}
process.exit(0);

export {};
