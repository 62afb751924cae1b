import pino from "pino";
import type { Logger } from "./logger.ts";

/** One access line's fields: all built by the request observer, none from raw client text but `method`. */
export interface AccessLine {
  /** Validated (`[A-Za-z0-9._:@+=/-]{1,128}`) or generated: safe to write unescaped. */
  reqId: string;
  method: string;
  route: string;
  status: number;
  ms: number;
  dbWaitMs: number;
  dbCheckouts: number;
}

/** pino's numeric levels, as written in the `level` field. */
const INFO = 30;
const DEBUG = 20;
/** Pending bytes that trigger a write at once. */
const FLUSH_BYTES = 64 * 1024;
/** Longest a line waits to be written: under load one write carries hundreds of lines. */
const FLUSH_MS = 20;

interface Destination {
  write(chunk: string): unknown;
  /** SonicBoom (stdout, files) has one; in-memory test streams do not. */
  fd?: number;
}

/**
 * The access log: the same JSON line pino writes for `log.info({reqId, method, ...}, "request")`
 * (`level`, `time`, the logger's bindings, the fields, `msg`), but serialised here from known
 * fields — no redaction pass, mixin or generic serialiser — with the ISO timestamp computed once
 * per millisecond, and, for a file-descriptor destination (stdout, a file), written in batches:
 * one write per 20 ms (or per 64 KiB) instead of one write per request. Lines are
 * never dropped or sampled; pending lines are written at process exit. In-memory destinations
 * (tests) get each line at once.
 */
export class AccessLog {
  readonly #log: Logger;
  readonly #out: Destination;
  readonly #batched: boolean;
  /** `,"service":"gatehouse"` etc.: the logger's bindings, serialised once. */
  readonly #bindings: string;
  #pending = "";
  #scheduled = false;
  #lastMs = -1;
  #lastTime = "";
  /** JSON-escaped methods and route templates: a bounded set (templates, not paths), escaped once. */
  readonly #quoted = new Map<string, string>();

  constructor(log: Logger) {
    this.#log = log;
    this.#out = (log as unknown as Record<symbol, Destination>)[pino.symbols.streamSym]!;
    this.#batched = typeof this.#out.fd === "number";
    const bindings = log.bindings();
    const text = JSON.stringify(bindings);
    this.#bindings = text === "{}" ? "" : `,${text.slice(1, -1)}`;
    if (this.#batched) globalThis.process?.once?.("exit", () => this.flush());
  }

  /** Writes one line at info (or at debug when `quiet`: probes and scrapes), if that level is enabled. */
  write(line: AccessLine, quiet: boolean): void {
    const level = quiet ? DEBUG : INFO;
    if (!this.#log.isLevelEnabled(quiet ? "debug" : "info")) return;
    const now = Date.now();
    if (now !== this.#lastMs) {
      this.#lastMs = now;
      this.#lastTime = new Date(now).toISOString();
    }
    const text = `{"level":${level},"time":"${this.#lastTime}"${this.#bindings},"reqId":"${line.reqId}","method":${this.#quote(line.method)},"route":${this.#quote(line.route)},"status":${line.status},"ms":${line.ms},"dbWaitMs":${line.dbWaitMs},"dbCheckouts":${line.dbCheckouts},"msg":"request"}\n`;
    if (!this.#batched) {
      this.#out.write(text);
      return;
    }
    this.#pending += text;
    if (this.#pending.length >= FLUSH_BYTES) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      // unref: pending lines never keep the process alive; they are written at exit.
      setTimeout(() => this.flush(), FLUSH_MS).unref?.();
    }
  }

  #quote(text: string): string {
    let q = this.#quoted.get(text);
    if (q === undefined) {
      q = JSON.stringify(text);
      // Methods are client text: only remember a bounded number of distinct ones.
      if (this.#quoted.size < 1024) this.#quoted.set(text, q);
    }
    return q;
  }

  /** Writes every pending line now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending === "") return;
    const text = this.#pending;
    this.#pending = "";
    this.#out.write(text);
  }
}
