import { loadConfig, type Config } from "./config/config.ts";
import { ConfigError } from "./config/errors.ts";
import { assertSafeToServe } from "./config/boot-checks.ts";
import { createLogger } from "./observability/logger.ts";
import { startGatehouse } from "./server.ts";
import { exitOnSignals } from "./runtime/signals.ts";
import { raiseOpenFileLimit } from "./runtime/open-file-limit.ts";
import { superviseProcesses } from "./supervisor.ts";

/** Exit status for a configuration error, so orchestrators can tell it from a crash. */
const EXIT_CONFIG = 2;

function configOrExit(): Config {
  try {
    const c = loadConfig(process.env);
    assertSafeToServe(process.env, c);
    return c;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`gatehouse: configuration error: ${e.message}`);
      process.exit(EXIT_CONFIG);
    }
    throw e;
  }
}

const config = configOrExit();
const log = createLogger(config.server.logLevel);
const openFiles = await raiseOpenFileLimit();
log.info({ openFiles }, `open-file limit: ${openFiles.soft ?? "unknown (no FFI)"}${openFiles.raisedFrom !== null ? ` (raised from ${openFiles.raisedFrom})` : ""}`);
if (config.processes.count > 1 && config.processes.index === null) {
  // GATEHOUSE_PROCESSES > 1: this process only supervises (children inherit the raised limit).
  superviseProcesses({ count: config.processes.count, log, shutdownTimeoutMs: config.server.shutdownTimeoutMs });
  await new Promise<never>(() => {}); // the rest of this module runs in the children only
}
const gatehouse = await startGatehouse(config, log).catch((e: unknown) => {
  log.fatal({ err: (e as Error).message, code: (e as { code?: string }).code }, "startup failed");
  process.exit(1);
});
exitOnSignals(() => gatehouse.shutdown(), log, config.server.shutdownTimeoutMs);
