/**
 * GATEHOUSE_LISTEN_BACKLOG: the real entry point, on Bun and on Deno, listens with the accept-queue
 * cap it was given, as the kernel reports it (`ss -ltn`: a listener's Send-Q is its backlog), and
 * with the runtime's own when told `off`. The default (`auto` = somaxconn) is checked on each
 * GATEHOUSE_PROCESSES child in test/e2e/supervisor.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { entryCommand, RUNTIMES, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { listenerBacklogs } from "../helpers/listen-backlog.ts";
import { RUNTIME_BACKLOG } from "../../src/runtime/listen-backlog.ts";

const started: ServerProcess[] = [];
afterAll(() => {
  for (const s of started) if (s.proc.exitCode === null) s.kill("SIGKILL");
});

async function start(runtime: "bun" | "deno", backlog: string): Promise<ServerProcess> {
  const s = await startServerProcess({
    DATABASE_URL: await freshDatabaseUrl(`backlog_${runtime}`),
    WEBUI_SECRET_KEY: "listen-backlog-test-secret",
    GATEHOUSE_CRYPTO_THREADS: "1",
    GATEHOUSE_LISTEN_BACKLOG: backlog,
  }, entryCommand(runtime));
  started.push(s);
  return s;
}

for (const runtime of RUNTIMES) describe(`listen backlog on ${runtime}`, () => {
  test("GATEHOUSE_LISTEN_BACKLOG=1000 → the listener's backlog is 1000; off → the runtime's own", async () => {
    const [set, off] = await Promise.all([start(runtime, "1000"), start(runtime, "off")]);
    expect(listenerBacklogs(set.port)).toEqual([1000]);
    expect(set.output()).toContain(`listen backlog on port ${set.port}: ${runtime}'s ${RUNTIME_BACKLOG[runtime]} → 1000`);
    expect(listenerBacklogs(off.port)).toEqual([RUNTIME_BACKLOG[runtime]!]);
    expect(off.output()).toContain(`listen backlog on port ${off.port}: left at ${runtime}'s ${RUNTIME_BACKLOG[runtime]} (GATEHOUSE_LISTEN_BACKLOG=off)`);
    for (const s of [set, off]) {
      expect((await fetch(`${s.baseUrl}/livez`)).status).toBe(200);
      s.kill("SIGTERM");
      expect(await s.exited).toBe(0);
    }
  }, 60_000);
});
