/**
 * `GATEHOUSE_LISTEN_BACKLOG`: a deeper accept queue than the runtime listens with. Bun listens
 * with a fixed backlog of 512 and Deno with 511, neither configurable, so a burst of thousands
 * of connects overflows the queue and the dropped SYNs are retransmitted a second later. On
 * Linux, `listen()` on a socket that is already listening updates its backlog, so once the
 * server listens, its listening socket(s) on our port are found in /proc/self/fd and listened
 * on again with the new backlog (libc through FFI, src/libc.ts). Each process does this for its
 * own listener, so every `GATEHOUSE_PROCESSES` child (reusePort: one socket each) gets it.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { ListenBacklogSetting } from "../config/listen-backlog-config.ts";
import { loadLibc, type Libc } from "../libc.ts";
import { runtimeName } from "../platform.ts";

/** `auto` never asks for more than this, however high somaxconn is. */
const AUTO_MAX = 65_535;

/** The backlog each runtime listens with (Bun 1.4: uSockets' 512; Deno 2.9: 511), as `ss -ltn` shows it. */
export const RUNTIME_BACKLOG: Readonly<Record<string, number>> = { bun: 512, deno: 511 };

/** What {@link applyListenBacklog} did. */
export type ListenBacklogOutcome =
  | { kind: "off" }
  | { kind: "unavailable"; reason: string }
  | {
    kind: "set";
    /** The accept-queue cap now in force: the requested value, capped by the kernel at somaxconn. */
    backlog: number;
    requested: number;
    /** net.core.somaxconn (null: unreadable). */
    somaxconn: number | null;
    /** Listening sockets updated (one, or one per address family when the host binds several). */
    sockets: number;
  };

/** net.core.somaxconn of this network namespace, or null where /proc cannot be read. */
export function somaxconn(): number | null {
  try {
    const n = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The descriptors of this process's sockets listening on `port`. */
function listeningFds(libc: Libc, port: number): number[] {
  const fds: number[] = [];
  for (const name of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // closed since the directory was read
    }
    if (target.startsWith("socket:") && libc.listeningPort(Number(name)) === port) fds.push(Number(name));
  }
  return fds;
}

/** Sets the backlog of this process's listener(s) on `port` as `setting` says (a no-op that says why where it cannot). */
export async function applyListenBacklog(port: number, setting: ListenBacklogSetting): Promise<ListenBacklogOutcome> {
  if (setting === null) return { kind: "off" };
  const libc = await loadLibc();
  if (!libc) return { kind: "unavailable", reason: "needs Linux and FFI (Deno: --allow-ffi)" };
  const max = somaxconn();
  if (setting === "auto" && max === null) return { kind: "unavailable", reason: "net.core.somaxconn is unreadable" };
  const requested = setting === "auto" ? Math.min(max!, AUTO_MAX) : setting;
  let fds: number[];
  try {
    fds = listeningFds(libc, port);
  } catch {
    return { kind: "unavailable", reason: "/proc/self/fd is unreadable" };
  }
  if (fds.length === 0) return { kind: "unavailable", reason: `no listening socket on port ${port} found` };
  const updated = fds.filter((fd) => libc.listen(fd, requested)).length;
  if (updated === 0) return { kind: "unavailable", reason: "listen() failed" };
  return { kind: "set", backlog: max === null ? requested : Math.min(requested, max), requested, somaxconn: max, sockets: updated };
}

/** The start-up log line for an outcome: what the backlog was and what it is. */
export function describeListenBacklog(port: number, o: ListenBacklogOutcome): string {
  const was = RUNTIME_BACKLOG[runtimeName];
  const runtimes = was === undefined ? "the runtime's" : `${runtimeName}'s ${was}`;
  if (o.kind === "off") return `listen backlog on port ${port}: left at ${runtimes} (GATEHOUSE_LISTEN_BACKLOG=off)`;
  if (o.kind === "unavailable") return `listen backlog on port ${port}: left at ${runtimes} (${o.reason})`;
  const capped = o.backlog < o.requested ? ` (asked ${o.requested}, capped by net.core.somaxconn)` : "";
  return `listen backlog on port ${port}: ${runtimes} → ${o.backlog}${capped}${o.somaxconn === null ? "" : `; net.core.somaxconn ${o.somaxconn}`}`;
}
