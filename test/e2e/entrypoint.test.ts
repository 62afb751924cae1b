import { afterAll, expect, test } from "bun:test";
import { entrypointCommand, finalStage, namedStage } from "../helpers/dockerfile.ts";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { RUNTIMES, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const started: ServerProcess[] = [];
afterAll(() => {
  for (const s of started) if (s.proc.exitCode === null) s.kill("SIGKILL");
});

for (const runtime of RUNTIMES) {
  test(`the Dockerfile's ${runtime === "bun" ? "default" : "--target deno"} ENTRYPOINT, run as is, serves /readyz against real Postgres and Redis and stops on SIGTERM`, async () => {
    const argv = entrypointCommand(runtime === "bun" ? finalStage() : namedStage("deno"));
    expect(argv[0]).toBe(runtime);
    // Outside the image the runtime is the project's copy; every other argument is exactly the image's.
    const command = [`${process.cwd()}/node_modules/.bin/${runtime}`, ...argv.slice(1)];
    const server = await startServerProcess(
      {
        NODE_ENV: "production",
        DATABASE_URL: await freshDatabaseUrl(`entrypoint_${runtime}`),
        REDIS_URL: await redisUrl(),
        REDIS_KEY_PREFIX: uniquePrefix(`entrypoint-${runtime}`),
        WEBUI_SECRET_KEY: "entrypoint-secret",
      },
      command,
    );
    started.push(server);
    const ready = await fetch(`${server.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: true, checks: { postgres: "ok", store: "ok" } });
    expect(server.output()).toContain("store: Redis (redis)");
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });
}
