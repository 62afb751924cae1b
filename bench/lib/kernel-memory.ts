/**
 * What the kernel holds for TCP connections on this machine, read from /proc (bench/ws-hold.ts):
 * sockstat counters, the slab caches a connection allocates, meminfo, listen-queue overflows,
 * conntrack, and — through `ss -tmn` — each established socket's buffer memory split by which
 * end of a given port it is.
 */
import { readdirSync, readFileSync } from "node:fs";

/** The slab caches one TCP connection end's socket, file and epoll registration allocate (plus the IPv6 and handshake ones). */
export const SLAB_CACHES = ["TCP", "TCPv6", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "eventpoll_pwq", "request_sock_TCP"] as const;

/**
 * What one idle IPv4 connection end holds in slab: its TCP socket, socket inode, file, dentry and
 * epoll entry (and wait-queue hook, where that cache is not merged into another), one object each.
 */
export const SLAB_PER_END = ["TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "eventpoll_pwq"] as const;

/** A snapshot of the kernel's TCP-related memory and counters. */
export interface KernelSnapshot {
  /** /proc/net/sockstat `TCP: inuse`, `tw`, `alloc` and `mem` (pages × 4 KiB). */
  tcp: { inuse: number; tw: number; alloc: number; memBytes: number };
  /**
   * Active objects and each object's share of its slab pages (pages × 4 KiB ÷ objects per slab)
   * per cache of {@link SLAB_CACHES}, and their product summed (null: /proc/slabinfo unreadable).
   */
  slab: { bytes: number; objects: Record<string, number>; objectBytes: Record<string, number> } | null;
  /** /proc/meminfo in bytes: MemAvailable, Slab, SUnreclaim. */
  meminfo: { available: number; slab: number; sUnreclaim: number };
  /** TcpExt counters: listen-queue overflows and drops (both cumulative since boot). */
  listen: { overflows: number; drops: number };
  /** /proc/net/snmp Tcp InSegs / OutSegs (cumulative): on loopback every segment is counted once each way. */
  segments: { in: number; out: number };
  /** nf_conntrack_count (null: no conntrack). */
  conntrack: number | null;
}

const read = (path: string): string | null => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
};

/** Reads a {@link KernelSnapshot}. */
export function kernelSnapshot(): KernelSnapshot {
  const sockstat = read("/proc/net/sockstat") ?? "";
  const tcpField = (name: string) => Number(new RegExp(`TCP:.*\\b${name} (\\d+)`).exec(sockstat)?.[1] ?? 0);
  let slab: KernelSnapshot["slab"] = null;
  const slabinfo = read("/proc/slabinfo");
  if (slabinfo !== null) {
    slab = { bytes: 0, objects: {}, objectBytes: {} };
    for (const line of slabinfo.split("\n")) {
      // name active_objs num_objs objsize objperslab pagesperslab …
      const f = line.split(/\s+/);
      if (!(SLAB_CACHES as readonly string[]).includes(f[0]!)) continue;
      const objectBytes = (Number(f[5]) * 4096) / Number(f[4]);
      slab.objects[f[0]!] = Number(f[1]);
      slab.objectBytes[f[0]!] = Math.round(objectBytes);
      slab.bytes += Number(f[1]) * objectBytes;
    }
  }
  const meminfo = read("/proc/meminfo") ?? "";
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(meminfo)?.[1] ?? 0) * 1024;
  const conntrack = read("/proc/sys/net/netfilter/nf_conntrack_count");
  return {
    tcp: { inuse: tcpField("inuse"), tw: tcpField("tw"), alloc: tcpField("alloc"), memBytes: tcpField("mem") * 4096 },
    slab,
    meminfo: { available: kb("MemAvailable"), slab: kb("Slab"), sUnreclaim: kb("SUnreclaim") },
    listen: { overflows: counter("/proc/net/netstat", "TcpExt:", "ListenOverflows"), drops: counter("/proc/net/netstat", "TcpExt:", "ListenDrops") },
    segments: { in: counter("/proc/net/snmp", "Tcp:", "InSegs"), out: counter("/proc/net/snmp", "Tcp:", "OutSegs") },
    conntrack: conntrack === null ? null : Number(conntrack.trim()),
  };
}

/** A counter from /proc/net/netstat or /proc/net/snmp (a `prefix` header line, then its value line). */
function counter(path: string, prefix: string, name: string): number {
  const lines = (read(path) ?? "").split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith(prefix)) continue;
    const keys = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    const at = keys.indexOf(name);
    return at > 0 ? Number(values[at]) : 0;
  }
  return 0;
}

/** Sums of `ss -m` skmem fields (bytes) over a set of sockets. */
export interface SocketBuffers {
  sockets: number;
  /** rmem_alloc + wmem_alloc + fwd_alloc + wmem_queued + optmem + backlog: what the sockets charge to TCP memory or hold besides. */
  bytes: number;
  /** Distinct local ports (client ends: the ephemeral ports in use). */
  localPorts: number;
  /** Sockets per remote (client ends) or local (server ends) address. */
  byAddress: Record<string, number>;
}

/**
 * Established TCP sockets of `port` split by end: `server` = local port is `port` (accepted),
 * `client` = remote port is `port` (connected), with their skmem sums from `ss -tmn`.
 */
export function socketBuffersByEnd(port: number): { server: SocketBuffers; client: SocketBuffers } {
  const out = Bun.spawnSync(["ss", "-tmnH", "state", "established"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
  const empty = (): SocketBuffers & { ports: Set<string> } => ({ sockets: 0, bytes: 0, localPorts: 0, byAddress: {}, ports: new Set() });
  const server = empty();
  const client = empty();
  let current: (SocketBuffers & { ports: Set<string> }) | null = null;
  for (const line of out.split("\n")) {
    const skmem = /skmem:\(([^)]*)\)/.exec(line);
    if (skmem && current) {
      for (const f of skmem[1]!.split(",")) {
        const m = /^(r|t|f|w|o|bl)(\d+)$/.exec(f);
        if (m) current.bytes += Number(m[2]);
      }
      current = null;
    }
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || skmem) continue;
    // Recv-Q Send-Q Local:Port Peer:Port (state omitted when filtered)
    const [local, peer] = f.slice(-2) as [string, string];
    const split = (a: string) => [a.slice(0, a.lastIndexOf(":")), a.slice(a.lastIndexOf(":") + 1)] as const;
    const [la, lp] = split(local);
    const [pa, pp] = split(peer);
    current = lp === String(port) ? server : pp === String(port) ? client : null;
    if (!current) continue;
    current.sockets++;
    const address = current === server ? la : pa;
    current.byAddress[address] = (current.byAddress[address] ?? 0) + 1;
    current.ports.add(lp);
  }
  const done = ({ ports, ...b }: SocketBuffers & { ports: Set<string> }): SocketBuffers => ({ ...b, localPorts: ports.size });
  return { server: done(server), client: done(client) };
}

/** VmRSS of `pid` in bytes (0 when gone). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) * 1024 : 0;
}

/** Open descriptors of `pid` and its soft/hard open-file limits. */
export function openFiles(pid: number): { open: number; soft: number; hard: number } {
  const limits = /Max open files\s+(\d+)\s+(\d+)/.exec(read(`/proc/${pid}/limits`) ?? "");
  let open = 0;
  try {
    open = readdirSync(`/proc/${pid}/fd`).length;
  } catch { /* gone */ }
  return { open, soft: Number(limits?.[1] ?? 0), hard: Number(limits?.[2] ?? 0) };
}

/** The direct children of `pid`. */
export function childPids(pid: number): number[] {
  return (read(`/proc/${pid}/task/${pid}/children`) ?? "").trim().split(/\s+/).filter(Boolean).map(Number);
}
