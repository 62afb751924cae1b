/** The result of bench/ws-hold.ts and its markdown: outcome, memory per socket, and the limits it ran against. */
import { table } from "./results.ts";
import { SLAB_PER_END, type KernelSnapshot, type SocketBuffers } from "./kernel-memory.ts";

/** One snapshot of the processes and the kernel. */
interface Snapshot {
  /** Supervisor first, then its children. */
  serverRss: number[];
  clientRss: number[];
  kernel: KernelSnapshot;
  fds: Array<{ open: number; soft: number; hard: number }>;
  clientFds: Array<{ open: number; soft: number; hard: number }>;
}

/** What bench/ws-hold.ts measured (written as the .json). */
export interface HoldResult {
  command: string;
  machine: Record<string, string | number>;
  loadBefore: string;
  loadAfter: string;
  settings: {
    sockets: number; processes: number; clientProcesses: number; targets: number; host: string; users: number;
    rate: number; inflight: number; holdSeconds: number; idleTimeoutSeconds: number; heartbeatSeconds: number;
  };
  sysctl: Record<string, string>;
  connect: { seconds: number; reports: Array<Record<string, unknown>> };
  before: Snapshot & { redis: number };
  held: Snapshot & { redis: number; buffers: { server: SocketBuffers; client: SocketBuffers }; perProcess: number[] };
  after: Snapshot & { perProcess: number[] };
  timeline: Array<{ at: number; clientHeld: number; serverAuthenticated: number }>;
  finalReports: Array<Record<string, unknown>>;
  serverMetrics: { authFailures: Record<string, number>; closes: Record<string, number>; messages?: Record<string, number> };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const kib = (b: number) => `${(b / 1024).toFixed(2)} KiB`;
const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const n = (x: number) => x.toLocaleString("en-US");
/** Per-key sums of a list of `{key: count}` objects. */
const merge = (objs: unknown[]) => {
  const out: Record<string, number> = {};
  for (const o of objs) for (const [k, v] of Object.entries((o ?? {}) as Record<string, number>)) out[k] = (out[k] ?? 0) + v;
  return out;
};

/** The markdown of a {@link HoldResult}. */
export function wsHoldMarkdown(r: HoldResult): string {
  const s = r.settings;
  const rep = r.connect.reports;
  const admitted = sum(rep.map((x) => Number(x["admitted"])));
  const refused = sum(rep.map((x) => Number(x["refused"])));
  const failed = sum(rep.map((x) => Number(x["failed"])));
  const admitP99 = Math.max(...rep.map((x) => Number((x["admitMs"] as { p99: number }).p99)));
  const admitMax = Math.max(...rep.map((x) => Number((x["admitMs"] as { max: number }).max)));
  const serverHeld = sum(r.held.perProcess);
  const last = r.timeline[r.timeline.length - 1]!;
  const bk = r.before.kernel;
  const hk = r.held.kernel;
  const ak = r.after.kernel;
  const serverGrowth = sum(r.held.serverRss) - sum(r.before.serverRss);
  const clientGrowth = sum(r.held.clientRss) - sum(r.before.clientRss);
  const slabGrowth = hk.slab && bk.slab ? hk.slab.bytes - bk.slab.bytes : null;
  const per = (b: number) => b / Math.max(1, serverHeld);
  const perEnd = (b: number) => b / Math.max(1, 2 * serverHeld);
  const buf = r.held.buffers;
  // One object of each per-end cache: robust against other work on the machine, unlike the growth.
  const slabEnd = hk.slab ? sum(SLAB_PER_END.map((c) => hk.slab!.objectBytes[c] ?? 0)) : null;
  const tcpObjects = hk.slab && bk.slab ? (hk.slab.objects["TCP"] ?? 0) - (bk.slab.objects["TCP"] ?? 0) : null;
  const serverSide = per(serverGrowth) + (slabEnd ?? 0) + per(buf.server.bytes);
  const clientSide = per(clientGrowth) + (slabEnd ?? 0) + per(buf.client.bytes);
  const [low, high] = (r.sysctl["net/ipv4/ip_local_port_range"] ?? "0 0").split(" ").map(Number) as [number, number];
  const closesDuringHold = merge(r.finalReports.map((x) => x["closes"]));

  return [
    `# ${n(s.sockets)} idle authenticated sockets across ${s.processes} server processes`,
    "",
    `Command: \`flock /work/wt/_bench.lock ${r.command}\`. One supervisor with GATEHOUSE_PROCESSES=${s.processes} (test/fixtures/ws-server.ts: the real boot plus a memory probe) ` +
      `listening on ${s.host}, real Postgres and Redis, log level \`warn\`, GATEHOUSE_WS_IDLE_TIMEOUT_SECONDS=${s.idleTimeoutSeconds} (the runtime pings a socket idle for ${s.idleTimeoutSeconds - pingMargin(s.idleTimeoutSeconds)} s and closes it if nothing answers within ${pingMargin(s.idleTimeoutSeconds)} s), ` +
      `GATEHOUSE_WS_MAX_SOCKETS_PER_USER=${s.sockets}. ${s.users} distinct users, one session token each (signed up just before, so every user's cache was cold at its first socket), tokens cycled over the sockets; ` +
      `every socket authenticates at upgrade (\`?token=\`) and counts as admitted when the hub acks a frame sent after the upgrade. ` +
      `${s.clientProcesses} client processes (Bun's WebSocket) open the sockets at ${n(s.rate)}/s in all, at most ${s.inflight} unanswered per process, to ${s.targets} destination address${s.targets > 1 ? "es" : ""} (127.0.0.1${s.targets > 1 ? ` … 127.0.0.${s.targets}` : ""}) in turn, ` +
      `then hold them ${s.holdSeconds} s with ${s.heartbeatSeconds > 0 ? `Open WebUI's \`heartbeat\` event every ${s.heartbeatSeconds} s per socket` : "no traffic but the server's pings and the clients' automatic pongs"}. ` +
      `Machine: ${r.machine["cores"]} cores, 24 GiB, Bun ${r.machine["bun"]}, shared with other developers (their tests may run meanwhile); load average ${r.loadBefore} before, ${r.loadAfter} after.`,
    "",
    "## Outcome",
    "",
    table(["sockets asked", "admitted (acked)", "refused / failed", "authenticated per server process", "connect time", "admit latency p99 / max", "listen-queue overflows", `open after ${s.holdSeconds} s (clients / server)`, "closed during the hold"], [[
      n(s.sockets), n(admitted), `${refused} / ${failed}`, `${n(serverHeld)} (${r.held.perProcess.map(n).join(" + ")})`,
      `${r.connect.seconds.toFixed(1)} s (${n(Math.round(admitted / r.connect.seconds))}/s)`, `${admitP99} ms / ${admitMax} ms`,
      n(hk.listen.overflows - bk.listen.overflows),
      `${n(last.clientHeld)} / ${n(last.serverAuthenticated)}`, JSON.stringify(closesDuringHold),
    ]]),
    "",
    `Server metrics at the end: \`gatehouse_ws_auth_failures_total\` ${JSON.stringify(r.serverMetrics.authFailures)}, \`gatehouse_ws_closes_total\` ${JSON.stringify(r.serverMetrics.closes)}, \`gatehouse_ws_messages_total\` ${JSON.stringify(r.serverMetrics.messages ?? {})}; ` +
      `\`error\` events on admitted sockets: ${sum(r.finalReports.map((x) => Number(x["errorsAfterAdmission"] ?? 0)))}. ` +
      `During the hold (clients / server authenticated): ${r.timeline.map((t) => `${t.at} s ${n(t.clientHeld)} / ${n(t.serverAuthenticated)}`).join("; ")}.` +
      ` TCP segments during the hold (machine-wide, loopback): ${n(ak.segments.in - hk.segments.in)} (${((ak.segments.in - hk.segments.in) / Math.max(1, serverHeld) / (s.holdSeconds / 60)).toFixed(1)} per socket per minute: ${s.heartbeatSeconds > 0 ? "the heartbeat events, " : "with no application traffic, "}the pings, pongs and their ACKs).` +
      (s.heartbeatSeconds > 0 ? ` \`heartbeat\` events sent during the hold: ${n(sum(r.finalReports.map((x) => Number(x["heartbeatsSent"]))))} (${sum(r.finalReports.map((x) => Number(x["heartbeatErrors"])))} send errors).` : ""),
    "",
    "## Memory per socket",
    "",
    table(["what", "before", "held", "growth", "per socket"], [
      [`server RSS (supervisor + ${s.processes} children, after a forced GC)`, mib(sum(r.before.serverRss)), mib(sum(r.held.serverRss)), mib(serverGrowth), kib(per(serverGrowth))],
      [`server RSS at the end of the hold (no forced GC)`, "—", mib(sum(r.after.serverRss)), mib(sum(r.after.serverRss) - sum(r.before.serverRss)), kib(per(sum(r.after.serverRss) - sum(r.before.serverRss)))],
      [`client RSS (${s.clientProcesses} Bun processes)`, mib(sum(r.before.clientRss)), mib(sum(r.held.clientRss)), mib(clientGrowth), kib(per(clientGrowth))],
      ["kernel slab, measured: TCP socket, inode, file, dentry, epoll caches (machine-wide growth ÷ 2 ends)", slabGrowth === null ? "unreadable" : mib(bk.slab!.bytes), slabGrowth === null ? "unreadable" : mib(hk.slab!.bytes), slabGrowth === null ? "—" : mib(slabGrowth), slabGrowth === null ? "—" : `${kib(perEnd(slabGrowth))} per end`],
      ["kernel slab, by object: one each of " + SLAB_PER_END.filter((c) => hk.slab?.objectBytes[c] !== undefined).map((c) => `${c} (${hk.slab!.objectBytes[c]} B)`).join(", "), "—", "—", "—", slabEnd === null ? "unreadable" : `${kib(slabEnd)} per end`],
      ["TCP socket objects (slab `TCP` cache)", n(bk.slab?.objects["TCP"] ?? 0), n(hk.slab?.objects["TCP"] ?? 0), tcpObjects === null ? "—" : n(tcpObjects), tcpObjects === null ? "—" : `${(tcpObjects / Math.max(1, serverHeld)).toFixed(2)} per socket (2 = both ends, nothing else)`],
      ["socket buffers, server ends (`ss -tm` skmem, local port = server)", "—", `${n(buf.server.sockets)} sockets`, mib(buf.server.bytes), kib(per(buf.server.bytes))],
      ["socket buffers, client ends (remote port = server)", "—", `${n(buf.client.sockets)} sockets`, mib(buf.client.bytes), kib(per(buf.client.bytes))],
      ["/proc/net/sockstat TCP mem (pages × 4 KiB, machine-wide)", kib(bk.tcp.memBytes), kib(hk.tcp.memBytes), kib(hk.tcp.memBytes - bk.tcp.memBytes), kib(per(hk.tcp.memBytes - bk.tcp.memBytes))],
      ["/proc/net/sockstat TCP inuse", n(bk.tcp.inuse), n(hk.tcp.inuse), n(hk.tcp.inuse - bk.tcp.inuse), ((hk.tcp.inuse - bk.tcp.inuse) / Math.max(1, serverHeld)).toFixed(2)],
      ["Redis used_memory (session_pool entries)", mib(r.before.redis), mib(r.held.redis), mib(r.held.redis - r.before.redis), kib(per(r.held.redis - r.before.redis))],
      ["machine: MemTotal − MemAvailable (everything, both ends)", "—", "—", mib(bk.meminfo.available - hk.meminfo.available), kib(per(bk.meminfo.available - hk.meminfo.available))],
    ]),
    "",
    `**Server side per socket: ${kib(serverSide)}** = ${kib(per(serverGrowth))} RSS + ${slabEnd === null ? "(slab unreadable)" : kib(slabEnd)} kernel slab (by object) + ${kib(per(buf.server.bytes))} socket buffers. Client side: ${kib(clientSide)} (${kib(per(clientGrowth))} RSS + the same slab + ${kib(per(buf.client.bytes))} buffers).`,
    "",
    "Attribution: both ends of every connection are on this machine. Socket buffers are read per socket (`ss -tm`), so each end's are its own. " +
      "The slab caches are machine-wide counters; each end of an idle connection allocates the same objects (one TCP socket, socket inode, file, dentry and epoll entry: both sides are Bun processes on epoll), so each end is charged one object of each (\"by object\", what the summary uses) — the measured growth ÷ 2 is shown as the check, and the `TCP` object count shows whether anything else opened or closed sockets meanwhile. " +
      "Other developers' work during the run lands in every machine-wide row (slab growth, sockstat, MemAvailable).",
    "",
    "## Limits this ran against",
    "",
    table(["limit", "value", "used"], [
      ["open files per process (soft / hard)", `server children ${[...new Set(r.held.fds.map((f) => `${f.soft} / ${f.hard}`))].join(", ")}; clients ${[...new Set(r.held.clientFds.map((f) => `${f.soft} / ${f.hard}`))].join(", ")}`, `server children: ${r.held.fds.map((f) => n(f.open)).join(", ")}; clients: ${r.held.clientFds.map((f) => n(f.open)).join(", ")}`],
      ["ephemeral ports (net.ipv4.ip_local_port_range)", `${low}–${high}: ${n(high - low + 1)} per (source, destination) pair`, `${n(buf.client.localPorts)} distinct local ports for ${n(buf.client.sockets)} client sockets; per destination: ${Object.entries(buf.server.byAddress).map(([a, c]) => `${a} ${n(c)}`).join(", ")}`],
      ["listen backlog (Bun: 512 per listener; net.core.somaxconn)", `512 × ${s.processes} listeners (somaxconn ${r.sysctl["net/core/somaxconn"]})`, `${n(hk.listen.overflows - bk.listen.overflows)} overflows, ${n(hk.listen.drops - bk.listen.drops)} drops (TcpExt, machine-wide)`],
      ["conntrack (nf_conntrack_max)", r.sysctl["net/netfilter/nf_conntrack_max"] ?? "none", hk.conntrack === null ? "—" : `${n(hk.conntrack)} entries held`],
      ["TCP memory (net.ipv4.tcp_mem, pages)", r.sysctl["net/ipv4/tcp_mem"] ?? "—", `${n(hk.tcp.memBytes / 4096)} pages`],
      ["memory (MemAvailable)", mib(bk.meminfo.available), `${mib(hk.meminfo.available)} left while held`],
    ]),
  ].join("\n");
}

/**
 * Seconds before the idle timeout at which the runtime pings (uWebSockets: 4, 8 or 16 by the
 * timeout's size), so a socket is pinged after `timeout − margin` idle seconds.
 */
function pingMargin(idleTimeout: number): number {
  let margin = 4;
  while (idleTimeout - margin * 2 >= margin * 2 && margin < 16) margin <<= 1;
  return margin;
}
