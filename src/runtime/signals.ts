import type { Logger } from "../observability/logger.ts";
import { unrefTimeout } from "../platform.ts";

/**
 * On SIGTERM/SIGINT: runs `shutdown` once (told which signal: Ctrl-C may skip the drain delay), exits 0 when it finishes, or exits 1 when it
 * takes longer than `timeoutMs` (the orchestrator would kill us anyway; exiting first
 * records why).
 */
export function exitOnSignals(shutdown: (signal: "SIGTERM" | "SIGINT") => Promise<void>, log: Logger, timeoutMs: number): void {
  let stopping = false;
  const onSignal = (signal: "SIGTERM" | "SIGINT") => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: readiness off, draining in-flight requests");
    unrefTimeout(() => {
      log.error({ timeoutMs }, "shutdown timed out; exiting with work unfinished");
      process.exit(1);
    }, timeoutMs);
    shutdown(signal).then(
      () => {
        log.info("shutdown complete");
        process.exit(0);
      },
      (e: unknown) => {
        log.error({ err: (e as Error).message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}
