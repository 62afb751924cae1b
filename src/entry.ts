import { loadConfig, type Config } from "./config/config.ts";
import { ConfigError } from "./config/errors.ts";
import { assertSafeToServe } from "./config/boot-checks.ts";
import { createLogger } from "./observability/logger.ts";
import type { AnyElysia } from "elysia";
import { startGatehouse, type GatehouseServer } from "./server.ts";
import { exitOnSignals } from "./runtime/signals.ts";
import type { ServeFunction } from "./runtime/serve.ts";
import { raiseOpenFileLimit } from "./runtime/open-file-limit.ts";
import { superviseProcesses } from "./supervisor.ts";
import { runtimeName } from "./platform.ts";

/** Exit status for a configuration error, so orchestrators can tell it from a crash. */
const EXIT_CONFIG = 2;

function configOrExit(env: Record<string, string | undefined>): Config {
  try {
    const config = loadConfig(env);
    assertSafeToServe(env, config);
    return config;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`gatehouse: configuration error: ${e.message}`);
      process.exit(EXIT_CONFIG);
    }
    throw e;
  }
}

/**
 * What both entry points do, with their runtime's serve function: config (exit 2 when
 * invalid) → services → listen; drains on SIGTERM/SIGINT. `extra` plugins are for test and
 * bench fixtures that boot the real entry with a few routes of their own.
 */
export async function runGatehouse(env: Record<string, string | undefined>, serve: ServeFunction, extra: AnyElysia[] = []): Promise<GatehouseServer> {
  const config = configOrExit(env);
  const log = createLogger(config.server.logLevel);
  const openFiles = await raiseOpenFileLimit();
  log.info({ openFiles }, `open-file limit: ${openFiles.soft ?? "unknown (no FFI)"}${openFiles.raisedFrom !== null ? ` (raised from ${openFiles.raisedFrom})` : ""}`);
  if (config.processes.count > 1 && config.processes.index === null) {
    // GATEHOUSE_PROCESSES > 1: this process only supervises (children inherit the raised limit).
    // Deno's children need `run -A` again, and `--unstable-net` for Deno.serve's reusePort;
    // Bun's execArgv/argv already hold the whole command.
    const command = runtimeName === "deno" ? [process.execPath, "run", "-A", "--unstable-net", process.argv[1]!] : undefined;
    superviseProcesses({ count: config.processes.count, log, shutdownTimeoutMs: config.server.shutdownTimeoutMs, command, env });
    return await new Promise<never>(() => {}); // the rest runs in the children only
  }
  const gatehouse = await startGatehouse(config, log, serve, extra).catch((e: unknown) => {
    log.fatal({ err: (e as Error).message, code: (e as { code?: string }).code }, "startup failed");
    process.exit(1);
  });
  exitOnSignals((signal) => gatehouse.shutdown({ skipDrainDelay: signal === "SIGINT" }), log, config.server.shutdownTimeoutMs);
  return gatehouse;
}
