import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import pino from "pino";
import { createLogger } from "../../src/observability/logger.ts";
import { AccessLog } from "../../src/observability/access-log.ts";

const line = { reqId: "r-1", method: "GET", route: "/api/v1/auths/", status: 200, ms: 0.4, dbWaitMs: 0, dbCheckouts: 0 };

function fileLogger(level: string) {
  const path = `${mkdtempSync(`${tmpdir()}/gh-access-`)}/log`;
  const dest = pino.destination({ dest: path, sync: true });
  return { log: createLogger(level, dest), read: () => readFileSync(path, "utf8") };
}

/** Waits (bounded, 5 s) until the log holds `lines` lines after `offset`: the batch timer fires on its own. */
async function linesAfter(read: () => string, offset: number, lines: number): Promise<string[]> {
  let got: string[] = [];
  for (let i = 0; i < 500; i++) {
    got = read().slice(offset).trim().split("\n").filter((l) => l !== "");
    if (got.length >= lines) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return got;
}

describe("access log", () => {
  test("writes the line pino writes (same keys, order and values), batched (written by the batch timer, not at once)", async () => {
    const { log, read } = fileLogger("info");
    log.info(line, "request");
    const fromPino = read();
    const access = new AccessLog(log);
    for (let i = 0; i < 3; i++) access.write(line, false);
    expect(read()).toBe(fromPino); // nothing yet: batched
    const ours = await linesAfter(read, fromPino.length, 3);
    expect(ours.length).toBe(3);
    const strip = (l: string) => l.replace(/"time":"[^"]+"/, '"time":"T"');
    for (const l of ours) expect(strip(l)).toBe(strip(fromPino.trim()));
  });

  test("probe routes are written at debug only when debug is enabled; client-chosen methods are escaped", async () => {
    const { log, read } = fileLogger("info");
    const access = new AccessLog(log);
    access.write({ ...line, route: "/livez" }, true);
    access.write({ ...line, method: 'GE"T\n' }, false);
    access.flush();
    const lines = read().trim().split("\n");
    expect(lines.length).toBe(1);
    expect(JSON.parse(lines[0]!).method).toBe('GE"T\n');
  });

  test("a full batch (256 lines) is written at once, in order, each line as pino writes it; the rest by the batch timer", async () => {
    const { log, read } = fileLogger("info");
    log.info({ ...line, reqId: "r-pino" }, "request");
    const fromPino = read();
    const access = new AccessLog(log);
    for (let i = 0; i < 300; i++) access.write({ ...line, reqId: `r-${i}`, ms: i / 10 }, false);
    const first = read().slice(fromPino.length).trim().split("\n");
    expect(first.length).toBe(256);
    const all = await linesAfter(read, fromPino.length, 300);
    expect(all.length).toBe(300);
    const strip = (l: string) => l.replace(/"time":"[^"]+"/, '"time":"T"');
    all.forEach((l, i) => {
      expect(JSON.parse(l).reqId).toBe(`r-${i}`);
      expect(strip(l)).toBe(strip(fromPino.trim()).replace('"reqId":"r-pino"', `"reqId":"r-${i}"`).replace('"ms":0.4', `"ms":${i / 10}`));
    });
  });

  test("each line keeps the time it was queued at, not the time of the batch", async () => {
    const { log, read } = fileLogger("info");
    const access = new AccessLog(log);
    const before = Date.now();
    access.write(line, false);
    const after = Date.now();
    await new Promise((r) => setTimeout(r, 30));
    access.flush();
    const time = Date.parse(JSON.parse(read().trim()).time);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });
});
