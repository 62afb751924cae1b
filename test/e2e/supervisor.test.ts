/**
 * GATEHOUSE_PROCESSES: two server processes on one port (reusePort) under a supervisor that
 * restarts a crashed child and forwards SIGTERM so both drain; several processes without
 * Postgres and Redis is a configuration error (exit 2) naming the variables.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { entryCommand, RUNTIMES, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { freePort } from "../harness/services.ts";
import { listenerBacklogs } from "../helpers/listen-backlog.ts";
import { somaxconn } from "../../src/runtime/listen-backlog.ts";

const root = new URL("../..", import.meta.url).pathname;
let sup: ServerProcess | null = null;

afterAll(async () => {
  if (sup && sup.proc.exitCode === null) {
    for (const pid of children(sup.proc.pid)) process.kill(pid, "SIGKILL");
    sup.kill("SIGKILL");
  }
});

/** The supervisor's child pids (Linux: /proc/<pid>/task/<pid>/children). */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The `process` labels seen on /metrics over fresh connections (the kernel picks the process). */
async function processesAnswering(base: string, attempts: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < attempts && seen.size < 2; i++) {
    try {
      const text = await (await fetch(`${base}/metrics`, { keepalive: false, headers: { connection: "close" } })).text();
      const m = /gatehouse_http_requests_total\{[^}]*process="(\d+)"/.exec(text) ?? /process="(\d+)"/.exec(text);
      if (m) seen.add(m[1]!);
    } catch {
      // a child restarting
    }
  }
  return seen;
}

async function until<T>(what: string, fn: () => T | Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describe("GATEHOUSE_PROCESSES", () => {
  for (const runtime of RUNTIMES) test(`${runtime}: 2 processes serve one port; a SIGKILLed child is restarted; SIGTERM drains both and exits 0`, async () => {
    sup = await startServerProcess({
      PORT: String(await freePort()),
      GATEHOUSE_PROCESSES: "2",
      DATABASE_URL: await freshDatabaseUrl("supervisor"),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix("supervisor"),
      WEBUI_SECRET_KEY: "supervisor-test-secret",
      GATEHOUSE_CRYPTO_THREADS: "1",
      GATEHOUSE_LOG_LEVEL: "info",
    }, entryCommand(runtime));
    const pids = await until("two children", () => children(sup!.proc.pid), (p) => p.length === 2);
    expect((await processesAnswering(sup.baseUrl, 200)).size).toBe(2);
    // Each child deepens its own reusePort listener to GATEHOUSE_LISTEN_BACKLOG's default (somaxconn).
    const auto = Math.min(somaxconn()!, 65_535);
    expect(listenerBacklogs(sup.port)).toEqual([auto, auto]);

    process.kill(pids[0]!, "SIGKILL");
    const after = await until("a replacement child", () => children(sup!.proc.pid), (p) => p.length === 2 && !p.includes(pids[0]!));
    expect(after).toContain(pids[1]!);
    await until("both processes answering again", () => processesAnswering(sup!.baseUrl, 50), (s) => s.size === 2);
    expect(sup.output()).toContain("exited unexpectedly; restarting");

    sup.kill("SIGTERM");
    const code = await Promise.race([sup.exited, Bun.sleep(30_000).then(() => "timeout")]);
    expect(code).toBe(0);
    for (const pid of after) expect(alive(pid)).toBe(false);
    expect(sup.output().match(/shutdown complete/g)?.length).toBe(2);
  }, 90_000);

  test("several processes without DATABASE_URL and REDIS_URL: exit 2 naming both", async () => {
    const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "src/main.ts"], {
      cwd: root,
      env: { PATH: process.env["PATH"] ?? "", HOME: "/tmp", GATEHOUSE_PROCESSES: "2", WEBUI_SECRET_KEY: "supervisor-test-secret", PORT: String(await freePort()) },
      stdout: "pipe", stderr: "pipe",
    });
    expect(await proc.exited).toBe(2);
    const err = await new Response(proc.stderr).text();
    expect(err).toContain("GATEHOUSE_PROCESSES");
    expect(err).toContain("DATABASE_URL and REDIS_URL");
  }, 30_000);
});
