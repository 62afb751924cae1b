import type { AnyElysia } from "elysia";
import type { Config } from "./config/config.ts";
import type { Logger } from "./observability/logger.ts";
import { createServices, type Services } from "./services.ts";
import { assembleInstance, type Instance } from "./instance.ts";
import type { RunningServer, ServeFunction } from "./runtime/serve.ts";

/** A running Gatehouse: its services, its server, and the one way to stop it. */
export interface GatehouseServer {
  services: Services;
  instance: Instance;
  server: RunningServer;
  /** Readiness off → drain hooks (WebSockets closed with 1001) → drain delay → stop accepting → in-flight finish → pools closed. */
  shutdown(): Promise<void>;
}

/**
 * Boots services, composes the app (plus `extra` plugins, used by tests), and listens with
 * `serve`: the runtime's serve function, chosen by the entry point (src/main.ts: Bun's,
 * src/main.deno.ts: Deno's).
 */
export async function startGatehouse(config: Config, log: Logger, serve: ServeFunction, extra: AnyElysia[] = []): Promise<GatehouseServer> {
  const services = await createServices(config, log);
  const instance = await assembleInstance(services, extra);
  const server = serve(instance.gatehouse.fetch, {
    host: config.server.host,
    port: config.server.port,
    maxBodyBytes: config.server.maxBodyBytes,
  }, instance.ws);
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
        await instance.stop();
        await services.close();
      })();
      return done;
    },
  };
}
