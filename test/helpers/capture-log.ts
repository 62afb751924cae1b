import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/observability/logger.ts";
import { scanForLeaks } from "./log-leaks.ts";

/** A real pino logger whose JSON lines are kept in memory for assertions. */
export function captureLogger(level = "info"): { log: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      scanForLeaks("in-process log", String(chunk));
      cb();
    },
  });
  const log = createLogger(level, stream);
  const text = () => chunks.join("");
  return {
    log,
    text,
    lines: () => text().split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
