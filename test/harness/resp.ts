/**
 * A one-shot RESP2 client for the harness's own readiness probes (PING, INFO, SENTINEL,
 * CLUSTER INFO). A full client would reconnect and queue on its own; a probe must instead
 * fail fast and never outlive its deadline.
 */
import { connect } from "node:net";

/** A decoded RESP2 reply; server errors become rejected promises instead. */
export type RespValue = string | number | null | RespValue[];

interface Parsed {
  value: RespValue | Error;
  next: number;
}

function parse(buf: Buffer, at: number): Parsed | undefined {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at] ?? 0);
  const line = buf.toString("utf8", at + 1, eol);
  const after = eol + 2;
  switch (type) {
    case "+":
      return { value: line, next: after };
    case "-":
      return { value: new Error(line), next: after };
    case ":":
      return { value: Number(line), next: after };
    case "$": {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return undefined;
      return { value: buf.toString("utf8", after, after + len), next: after + len + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items: RespValue[] = [];
      let pos = after;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, pos);
        if (!item) return undefined;
        // An error nested in an array (e.g. EXEC) is kept as its message.
        items.push(item.value instanceof Error ? item.value.message : item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      return { value: new Error(`unexpected RESP type byte ${JSON.stringify(type)}`), next: buf.length };
  }
}

/**
 * Sends one command to 127.0.0.1:`port` on a fresh connection and resolves with its reply.
 * Rejects on a server error, a connection error, or after `timeoutMs`.
 */
export function redisCommand(port: number, args: string[], timeoutMs = 2000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined, value?: RespValue) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value ?? null);
    };
    const timer = setTimeout(() => finish(new Error(`redis :${port} ${args[0] ?? ""} timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.on("error", (e) => finish(e));
    socket.on("close", () => finish(new Error(`redis :${port} closed the connection`)));
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const parsed = parse(buf, 0);
      if (!parsed) return;
      if (parsed.value instanceof Error) finish(parsed.value);
      else finish(undefined, parsed.value);
    });
    socket.on("connect", () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
    });
  });
}

/** Turns a flat `[k1, v1, k2, v2, ...]` reply (SENTINEL MASTER) into a record. */
export function pairs(reply: RespValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}
