/**
 * Process and temp-dir bookkeeping for the harness: every child is tracked so nothing
 * outlives the run, every wait has a deadline, and startup errors quote the log tail.
 */
import type { Subprocess } from "bun";
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { ensureBinaries, isRoot, PG_BIN } from "./apt.ts";
import { runCommand } from "./exec.ts";
import { freeClusterPort, freePort } from "./ports.ts";
import { guardDir, guardPid, releaseDir, releasePid } from "./reaper.ts";
import { pairs, redisCommand } from "./resp.ts";
import type { ServiceHandle } from "./handles.ts";

/** Every service listens here. */
export const HOST = "127.0.0.1";

interface Tracked {
  pid: number;
  /** The last-resort signal when this process ends first. */
  signal: "KILL" | "QUIT";
}

/** Processes still running. */
export const live = new Set<Tracked>();
/** Handles started and not yet stopped. */
export const running = new Set<ServiceHandle>();
/** Temp dirs not yet removed. */
export const tempDirs = new Set<string>();

export function track(pid: number, signal: Tracked["signal"]): Tracked {
  const t: Tracked = { pid, signal };
  live.add(t);
  guardPid(pid, signal);
  return t;
}

export function untrack(t: Tracked): void {
  live.delete(t);
  releasePid(t.pid);
}

export function killTracked(t: Tracked): void {
  try {
    process.kill(t.pid, `SIG${t.signal}`);
  } catch {
    // Already gone.
  }
}

// The watchdog in reaper.ts covers `bun test` (which exits without this event) and crashes;
// this handler covers plain scripts such as test/run.ts without waiting for it.
process.on("exit", () => {
  for (const t of live) killTracked(t);
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      // A process may still be writing into it; nothing more can be done while exiting.
    }
  }
});

export class FatalStartupError extends Error {}

export function makeTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-${label}-`));
  tempDirs.add(dir);
  guardDir(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
  releaseDir(dir);
}

export function tail(file: string, chars = 3000): string {
  try {
    const text = readFileSync(file, "utf8");
    return text.length > chars ? `…${text.slice(-chars)}` : text || "(empty)";
  } catch {
    return "(no log file)";
  }
}

export function withLog(message: string, logFile: string): string {
  return `${message}\n--- ${logFile} (tail) ---\n${tail(logFile)}`;
}

/**
 * Polls `check` every 50 ms until it returns true, for at most `timeoutMs`. A
 * {@link FatalStartupError} from `check` aborts at once; other errors count as "not yet"
 * and the last one is quoted in the timeout error.
 */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      if (await check()) return;
      last = "";
    } catch (e) {
      if (e instanceof FatalStartupError) throw e;
      last = (e as Error).message;
    }
    if (Date.now() >= deadline) break;
    await Bun.sleep(50);
  }
  const message = `${what}: not ready within ${timeoutMs} ms${last ? ` (last error: ${last})` : ""}`;
  throw new Error(logFile ? withLog(message, logFile) : message);
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // A zombie counts as gone: the postmaster is not our child, and PID 1 may never reap it.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

export async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await Bun.sleep(25);
  }
  return true;
}

export function spawnLogged(cmd: string[], logFile: string, cwd: string): Subprocess {
  const fd = openSync(logFile, "a");
  try {
    const proc = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: fd, stderr: fd });
    const tracked = track(proc.pid, "KILL");
    void proc.exited.then(() => untrack(tracked));
    return proc;
  } finally {
    closeSync(fd);
  }
}

export function hasExited(proc: Subprocess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}
