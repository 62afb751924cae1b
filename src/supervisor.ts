/**
 * `GATEHOUSE_PROCESSES=N|auto`: N server processes on one port. Each child is a full instance
 * (its own accept queue, descriptor budget, database pool, Redis connections and crypto
 * threads) started with this process's own command line plus `GATEHOUSE_PROCESS_INDEX`, and
 * listening with `reusePort`, so the kernel spreads connections across them. The supervisor
 * serves nothing itself: it restarts a child that exits unexpectedly (with a growing delay when
 * a child keeps crashing at start), and on SIGTERM/SIGINT forwards the signal so each child
 * drains gracefully, then exits 0 when all have exited cleanly (1 otherwise).
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "./observability/logger.ts";
import { unrefTimeout } from "./platform.ts";

/** A child that exits with this status has a configuration error: restarting cannot help. */
const EXIT_CONFIG = 2;
/** A child that lived at least this long before crashing is restarted at once. */
const STABLE_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** Options of {@link superviseProcesses}. */
export interface SupervisorOptions {
  count: number;
  log: Logger;
  /** How long children may take to drain after SIGTERM before they are killed. */
  shutdownTimeoutMs: number;
  /** The command that starts one server (default: this process's own command line). */
  command?: string[];
  /** The environment every child starts with (plus its `GATEHOUSE_PROCESS_INDEX`): the entry's own. */
  env: Record<string, string | undefined>;
}

interface Slot {
  index: number;
  child: ChildProcess | null;
  startedAt: number;
  restarts: number;
  delayMs: number;
}

/** Runs the supervisor until a signal stops it; never returns (exits the process). */
export function superviseProcesses(opts: SupervisorOptions): void {
  const [cmd, ...args] = opts.command ?? [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const slots: Slot[] = Array.from({ length: opts.count }, (_, index) => ({ index, child: null, startedAt: 0, restarts: 0, delayMs: 250 }));
  let stopping = false;
  let stoppedWith: NodeJS.Signals | null = null;
  /** The supervisor's own exit status once every child has exited. */
  let exitCode = 0;

  const start = (slot: Slot): void => {
    slot.startedAt = Date.now();
    const child = spawn(cmd!, args, { stdio: "inherit", env: { ...opts.env, GATEHOUSE_PROCESS_INDEX: String(slot.index) } });
    slot.child = child;
    opts.log.info({ process: slot.index, pid: child.pid, restarts: slot.restarts }, `server process ${slot.index} started`);
    child.on("exit", (code, signal) => {
      slot.child = null;
      if (code === EXIT_CONFIG) exitCode = EXIT_CONFIG;
      // Deno's child_process reports a child it sent a signal to as ended by that signal, even when
      // the child handled it and exited 0 ("shutdown complete" is in its log): that is a clean stop too.
      else if (stopping && code !== 0 && !(code === null && signal === stoppedWith) && exitCode === 0) exitCode = 1;
      if (stopping) {
        opts.log.info({ process: slot.index, code, signal }, `server process ${slot.index} exited`);
        if (slots.every((s) => s.child === null)) {
          opts.log.info({ exitCode }, "all server processes exited");
          process.exit(exitCode);
        }
        return;
      }
      if (code === EXIT_CONFIG) {
        opts.log.fatal({ process: slot.index }, "server process exited with a configuration error; stopping");
        stopAll("SIGTERM");
        return;
      }
      // A child that crashed soon after starting waits longer each time (crash loops do not spin).
      slot.delayMs = Date.now() - slot.startedAt >= STABLE_MS ? 250 : Math.min(MAX_RESTART_DELAY_MS, slot.delayMs * 2);
      slot.restarts++;
      opts.log.error({ process: slot.index, code, signal, restartInMs: slot.delayMs }, `server process ${slot.index} exited unexpectedly; restarting`);
      setTimeout(() => {
        if (!stopping) start(slot);
      }, slot.delayMs);
    });
  };

  const stopAll = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    stoppedWith = signal;
    opts.log.info({ signal }, "supervisor: forwarding the signal; server processes drain");
    const live = slots.filter((s) => s.child !== null);
    if (live.length === 0) process.exit(exitCode);
    for (const s of live) s.child!.kill(signal);
    // Each child enforces its own shutdown timeout; this is the backstop if one is wedged.
    unrefTimeout(() => {
      for (const s of slots) s.child?.kill("SIGKILL");
      opts.log.error("supervisor: server processes did not exit in time; killed");
      process.exit(1);
    }, opts.shutdownTimeoutMs + 5_000);
  };

  process.on("SIGTERM", () => stopAll("SIGTERM"));
  process.on("SIGINT", () => stopAll("SIGINT"));
  opts.log.info({ processes: opts.count }, `supervisor: starting ${opts.count} server processes`);
  for (const s of slots) start(s);
}
