import { loadConfig, type Config } from "./config/config.ts";
import { ConfigError } from "./config/errors.ts";
import { assertSafeToServe } from "./config/boot-checks.ts";
import { createLogger } from "./observability/logger.ts";
import type { AnyElysia } from "elysia";
import { startGatehouse, type GatehouseServer } from "./server.ts";
import { exitOnSignals } from "./runtime/signals.ts";
import type { ServeFunction } from "./runtime/serve.ts";

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
  const gatehouse = await startGatehouse(config, log, serve, extra).catch((e: unknown) => {
    log.fatal({ err: (e as Error).message, code: (e as { code?: string }).code }, "startup failed");
    process.exit(1);
  });
  exitOnSignals((signal) => gatehouse.shutdown({ skipDrainDelay: signal === "SIGINT" }), log, config.server.shutdownTimeoutMs);
  return gatehouse;
}
