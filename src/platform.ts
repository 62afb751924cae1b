/**
 * Runtime facts used deep inside Gatehouse, in one place: what differs between Bun and Deno
 * below the serve adapters (src/runtime). Imports nothing from the project.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** The runtime this process runs on. */
export type RuntimeName = "bun" | "deno" | "node";

/** `bun`, `deno` or `node`, detected once. */
export const runtimeName: RuntimeName =
  typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno" : "node";

/** A timer started by {@link unrefInterval} or {@link unrefTimeout}; stop it with {@link clearUnrefTimer}. */
export type UnrefTimer = ReturnType<typeof setInterval>;

interface DenoTimers {
  unrefTimer(id: number): void;
}

/** Lets the process exit while `timer` is pending: Node/Bun timers have `unref()`, Deno's are numbers for `Deno.unrefTimer`. */
function unref(timer: UnrefTimer): UnrefTimer {
  if (typeof timer === "number") (globalThis as { Deno?: DenoTimers }).Deno?.unrefTimer(timer);
  else (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** `setInterval` that does not keep the process alive. */
export function unrefInterval(fn: () => void, ms: number): UnrefTimer {
  return unref(setInterval(fn, ms));
}

/** `setTimeout` that does not keep the process alive. */
export function unrefTimeout(fn: () => void, ms: number): UnrefTimer {
  return unref(setTimeout(fn, ms) as unknown as UnrefTimer);
}

/** Stops a timer from {@link unrefInterval} or {@link unrefTimeout}. */
export function clearUnrefTimer(timer: UnrefTimer): void {
  clearInterval(timer);
}

/** A CPU-time clock in microseconds, and which clock it is. */
export interface CpuClock {
  readonly kind: "thread-cpu" | "process-cpu";
  /** Microseconds of CPU used so far (user + system). */
  now(): number;
}

interface CpuUsage {
  user: number;
  system: number;
}

/**
 * The per-thread CPU clock when it exists and is fine-grained, else the process clock. Deno
 * 2.9's `threadCpuUsage` moves in exact 10 ms quanta (and read 20 ms for 50 ms of spinning);
 * Bun's moves in irregular steps of ≈ 0.3–4 ms that sum up correctly. So: spin until the clock
 * has stepped twice (≤ 40 ms) and accept it if any step is not a whole millisecond.
 */
export function threadCpuClock(): CpuClock {
  const threadUsage = (process as { threadCpuUsage?: () => CpuUsage }).threadCpuUsage;
  if (typeof threadUsage === "function") {
    const read = (): number => {
      const u = threadUsage.call(process);
      return u.user + u.system;
    };
    if (isFineGrained(read)) return { kind: "thread-cpu", now: read };
  }
  return {
    kind: "process-cpu",
    now: () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
  };
}

function isFineGrained(read: () => number): boolean {
  const end = performance.now() + 40;
  let prev = read();
  let steps = 0;
  while (steps < 2 && performance.now() < end) {
    const next = read();
    if (next !== prev) {
      if ((next - prev) % 1000 !== 0) return true;
      steps++;
      prev = next;
    }
  }
  return false;
}

/** Bun's default cap on concurrent outgoing fetch() requests. */
const BUN_DEFAULT_FETCH_CAP = 256;

/**
 * The process-wide cap on concurrent fetch() requests: on Bun, `configured`
 * (BUN_CONFIG_MAX_HTTP_REQUESTS, read by Bun at process start) or its default 256; null on
 * runtimes without one (Deno).
 */
export function fetchConcurrencyCap(configured: number | null): number | null {
  if (runtimeName !== "bun") return null;
  return configured ?? BUN_DEFAULT_FETCH_CAP;
}

/** Storage that follows one request through its awaits (AsyncLocalStorage on every runtime). */
export interface RequestStorage<T> {
  run<R>(value: T, fn: () => R): R;
  get(): T | undefined;
  /** Runs `fn` with no value (work it starts is not attributed to the current one). */
  exit<R>(fn: () => R): R;
}

/** A new {@link RequestStorage}. */
export function createRequestStorage<T>(): RequestStorage<T> {
  const storage = new AsyncLocalStorage<T>();
  return {
    run: (value, fn) => storage.run(value, fn),
    get: () => storage.getStore(),
    // Deno's exit() clears the value only for synchronous code (timers and promises started inside
    // still see it); run() with no value works the same on both runtimes.
    exit: (fn) => storage.run(undefined as T, fn),
  };
}
