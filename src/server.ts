import type { AnyElysia } from "elysia";
import type { Config } from "./config/config.ts";
import type { Logger } from "./observability/logger.ts";
import { createServices, type Services } from "./services.ts";
import { assembleInstance, type Instance } from "./instance.ts";
import { serveBun, type RunningServer } from "./runtime/bun.ts";
import { startMetricsServer } from "./http/metrics-server.ts";

/** A running Gatehouse: its services, its server, and the one way to stop it. */
export interface GatehouseServer {
  services: Services;
  instance: Instance;
  server: RunningServer;
  /** Readiness off → drain hooks (WebSockets closed with 1001) → drain delay → stop accepting → in-flight finish → pools closed. */
  shutdown(): Promise<void>;
}

/**
 * Boots services, composes the app (plus `extra` plugins, used by tests), and listens.
 */
export async function startGatehouse(config: Config, log: Logger, extra: AnyElysia[] = []): Promise<GatehouseServer> {
  const services = await createServices(config, log);
  const instance = await assembleInstance(services, extra);
  const server = serveBun(instance.gatehouse.fetch, {
    host: config.server.host,
    port: config.server.port,
    maxBodyBytes: config.server.maxBodyBytes,
    reusePort: config.processes.count > 1,
  }, instance.ws);
  const metricsServer = startMetricsServer(config, services, serveBun);
  log.info(
    { port: server.port, database: services.describe.database, store: services.describe.store, secretKey: services.describe.secretKey },
    `Gatehouse listening on http://${config.server.host}:${server.port} — database: ${services.describe.database}; store: ${services.describe.store}`,
  );
  let done: Promise<void> | undefined;
  return {
    services,
    instance,
    server,
    shutdown() {
      done ??= (async () => {
        await services.lifecycle.drain();
        if (config.server.shutdownDrainDelayMs > 0) {
          await new Promise((r) => setTimeout(r, config.server.shutdownDrainDelayMs));
        }
        await server.stop(false);
        await metricsServer?.stop(true);
        await instance.stop();
        await services.close();
      })();
      return done;
    },
  };
}
