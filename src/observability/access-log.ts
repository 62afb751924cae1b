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
/** Pending lines that trigger a write at once (≈ 64 KiB of text). */
const FLUSH_LINES = 256;
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
 * one write per 20 ms (or per 256 lines) instead of one write per request. A request only
 * queues its fields and the time; the lines are serialised when the batch is written, in one
 * tight loop (building each line as it came and keeping the text for 20 ms cost ≈ 1 µs per
 * request, mostly in flattening the scattered strings at write time). Lines are never dropped
 * or sampled and keep their order; pending lines are written at process exit. In-memory
 * destinations (tests) get each line at once.
 */
export class AccessLog {
  readonly #log: Logger;
  readonly #out: Destination;
  readonly #batched: boolean;
  /** `,"service":"gatehouse"` etc.: the logger's bindings, serialised once. */
  readonly #bindings: string;
  /** Queued lines and the time (ms) and level of each. */
  #lines: AccessLine[] = [];
  #times: number[] = [];
  #levels: number[] = [];
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
    // pino's numeric threshold (`levelVal`): the same test as isLevelEnabled, without its name lookup.
    if (level < this.#log.levelVal) return;
    if (!this.#batched) {
      this.#out.write(this.#text(line, level, Date.now()));
      return;
    }
    this.#lines.push(line);
    this.#times.push(Date.now());
    this.#levels.push(level);
    if (this.#lines.length >= FLUSH_LINES) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      // unref: pending lines never keep the process alive; they are written at exit.
      setTimeout(() => this.flush(), FLUSH_MS).unref?.();
    }
  }

  #text(line: AccessLine, level: number, now: number): string {
    if (now !== this.#lastMs) {
      this.#lastMs = now;
      this.#lastTime = new Date(now).toISOString();
    }
    return `{"level":${level},"time":"${this.#lastTime}"${this.#bindings},"reqId":"${line.reqId}","method":${this.#quote(line.method)},"route":${this.#quote(line.route)},"status":${line.status},"ms":${line.ms},"dbWaitMs":${line.dbWaitMs},"dbCheckouts":${line.dbCheckouts},"msg":"request"}\n`;
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
    const lines = this.#lines;
    if (lines.length === 0) return;
    const times = this.#times;
    const levels = this.#levels;
    this.#lines = [];
    this.#times = [];
    this.#levels = [];
    let text = "";
    for (let i = 0; i < lines.length; i++) text += this.#text(lines[i]!, levels[i]!, times[i]!);
    this.#out.write(text);
  }
}
