import { afterAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl } from "../helpers/real-services.ts";
import { entryCommand, RUNTIMES, runtimeCommand, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const started: ServerProcess[] = [];
afterAll(() => {
  for (const s of started) if (s.proc.exitCode === null) s.kill("SIGKILL");
});

for (const runtime of RUNTIMES) describe(`graceful shutdown on ${runtime}`, () => {
  test("SIGTERM: readiness turns 503, the in-flight request completes, pools close, exit 0", async () => {
    const server = await startServerProcess(
      {
        DATABASE_URL: await freshDatabaseUrl(`shutdown_${runtime}`),
        REDIS_URL: await redisUrl(),
        WEBUI_SECRET_KEY: "shutdown-test-secret",
        GATEHOUSE_SHUTDOWN_DRAIN_DELAY_MS: "600",
        GATEHOUSE_SHUTDOWN_TIMEOUT_MS: "15000",
      },
      runtimeCommand(runtime, "test/fixtures/slow-route-server.ts"),
    );
    started.push(server);
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);

    const slow = fetch(`${server.baseUrl}/test/slow?ms=1500`);
    await Bun.sleep(200);
    server.kill("SIGTERM");
    await Bun.sleep(150);

    const ready = await fetch(`${server.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: false, checks: { shutdown: "draining" } });

    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ completed: true });

    expect(await server.exited).toBe(0);
    const log = server.output();
    expect(log).toContain("shutting down");
    expect(log).toContain("shutdown complete");
    // Once stopped, it accepts nothing.
    await expect(fetch(`${server.baseUrl}/livez`)).rejects.toThrow();
  });

  test("SIGINT is handled the same way", async () => {
    const server = await startServerProcess({
      DATABASE_URL: await freshDatabaseUrl(`sigint_${runtime}`),
      WEBUI_SECRET_KEY: "shutdown-test-secret",
    }, entryCommand(runtime));
    started.push(server);
    server.kill("SIGINT");
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain("shutdown complete");
  });
});
