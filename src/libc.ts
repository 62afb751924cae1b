/**
 * The few libc calls Gatehouse makes (open-file limit, per-thread priority, listen backlog), through Bun's
 * `bun:ffi` or `Deno.dlopen`. Linux only; anywhere else (another OS, no FFI permission, Node)
 * {@link loadLibc} answers null and callers skip the optimisation.
 */

/** `RLIMIT_NOFILE` on Linux. */
const RLIMIT_NOFILE = 7;
/** `PRIO_PROCESS`: with a thread id, Linux applies the nice value to that thread only. */
const PRIO_PROCESS = 0;
/** `SOL_SOCKET` and `SO_ACCEPTCONN` on Linux. */
const SOL_SOCKET = 1;
const SO_ACCEPTCONN = 30;
const AF_INET = 2;
const AF_INET6 = 10;

/** The libc functions in use, with plain-number signatures. */
export interface Libc {
  /** `[soft, hard]` of RLIMIT_NOFILE, or null when the call failed. */
  openFileLimit(): [number, number] | null;
  /** Sets the soft RLIMIT_NOFILE (hard unchanged); true on success. */
  setOpenFileLimit(soft: number, hard: number): boolean;
  /** The calling thread's kernel id. */
  gettid(): number;
  /** `setpriority(PRIO_PROCESS, tid, nice)`; true on success. */
  setThreadNice(tid: number, nice: number): boolean;
  /** `getpriority(PRIO_PROCESS, tid)` (the nice value). */
  threadNice(tid: number): number;
  /** The local TCP/UDP port of `fd` when it is a listening IPv4/IPv6 socket (`SO_ACCEPTCONN`), else null. */
  listeningPort(fd: number): number | null;
  /** `listen(fd, backlog)`: on a socket already listening, Linux updates its accept-queue cap; true on success. */
  listen(fd: number, backlog: number): boolean;
}

const LIBC_PATH = "libc.so.6";

interface DenoFfi {
  build: { os: string };
  permissions: { querySync(d: { name: "ffi" }): { state: string } };
  dlopen(path: string, symbols: Record<string, { parameters: string[]; result: string }>): { symbols: Record<string, (...a: unknown[]) => number> };
}

let cached: Libc | null | undefined;

/** The libc bindings, or null where FFI is unavailable (loaded once per thread). */
export async function loadLibc(): Promise<Libc | null> {
  if (cached !== undefined) return cached;
  cached = null;
  if (globalThis.process?.platform !== "linux" && (globalThis as { Deno?: DenoFfi }).Deno?.build.os !== "linux") return null;
  try {
    if ((globalThis as { Bun?: unknown }).Bun) cached = await bunLibc();
    else if ((globalThis as { Deno?: DenoFfi }).Deno) cached = denoLibc((globalThis as unknown as { Deno: DenoFfi }).Deno);
  } catch {
    cached = null; // no FFI permission (Deno without --allow-ffi) or no glibc (musl names it differently)
  }
  return cached;
}

/** Wraps raw symbols taking a pointer/buffer argument made by `buf`. */
function wrap(sym: Record<string, (...a: never[]) => unknown>, buf: (a: ArrayBufferView) => unknown): Libc {
  const s = sym as unknown as Record<string, (...a: unknown[]) => number>;
  return {
    openFileLimit() {
      const b = new BigUint64Array(2);
      return s["getrlimit"]!(RLIMIT_NOFILE, buf(b)) === 0 ? [Number(b[0]), Number(b[1])] : null;
    },
    setOpenFileLimit(soft, hard) {
      const b = new BigUint64Array([BigInt(soft), BigInt(hard)]);
      return s["setrlimit"]!(RLIMIT_NOFILE, buf(b)) === 0;
    },
    gettid: () => Number(s["gettid"]!()),
    setThreadNice: (tid, nice) => s["setpriority"]!(PRIO_PROCESS, tid, nice) === 0,
    threadNice: (tid) => Number(s["getpriority"]!(PRIO_PROCESS, tid)),
    listeningPort(fd) {
      const on = new Int32Array(1);
      const len = new Uint32Array([4]);
      if (s["getsockopt"]!(fd, SOL_SOCKET, SO_ACCEPTCONN, buf(on), buf(len)) !== 0 || on[0] !== 1) return null;
      // sockaddr_in / sockaddr_in6: family (host order), then the port (network order).
      const addr = new Uint8Array(128);
      const addrLen = new Uint32Array([addr.length]);
      if (s["getsockname"]!(fd, buf(addr), buf(addrLen)) !== 0) return null;
      const family = addr[0]! | (addr[1]! << 8);
      return family === AF_INET || family === AF_INET6 ? (addr[2]! << 8) | addr[3]! : null;
    },
    listen: (fd, backlog) => s["listen"]!(fd, backlog) === 0,
  };
}

async function bunLibc(): Promise<Libc> {
  const spec = "bun:ffi";
  const { dlopen, FFIType, ptr } = await import(spec) as typeof import("bun:ffi");
  const lib = dlopen(LIBC_PATH, {
    getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    gettid: { args: [], returns: FFIType.i32 },
    setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
    getpriority: { args: [FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  });
  return wrap(lib.symbols as never, (b) => ptr(b as Uint8Array));
}

function denoLibc(deno: DenoFfi): Libc | null {
  // Only when already granted: asking would prompt on a terminal and block start-up.
  if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  const lib = deno.dlopen(LIBC_PATH, {
    getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    gettid: { parameters: [], result: "i32" },
    setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
    getpriority: { parameters: ["i32", "u32"], result: "i32" },
    getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
    getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
    listen: { parameters: ["i32", "i32"], result: "i32" },
  });
  return wrap(lib.symbols as never, (b) => b);
}
