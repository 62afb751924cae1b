import type { AnyElysia } from "elysia";
import type { Config } from "./config/config.ts";
import type { Logger } from "./observability/logger.ts";
import { createServices, type Services } from "./services.ts";
import { assembleInstance, type Instance } from "./instance.ts";
import type { RunningServer, ServeFunction } from "./runtime/serve.ts";
import { startMetricsServer } from "./http/metrics-server.ts";
import { applyListenBacklog, describeListenBacklog } from "./runtime/listen-backlog.ts";

/** A running Gatehouse: its services, its server, and the one way to stop it. */
export interface GatehouseServer {
  services: Services;
  instance: Instance;
  server: RunningServer;
  /**
   * Readiness off → drain delay (still serving, so load balancers stop routing here first;
   * `skipDrainDelay` for Ctrl-C in a terminal) → drain hooks (WebSockets closed with 1001) →
   * stop accepting → in-flight requests and streams finish → pools closed.
   */
  shutdown(opts?: { skipDrainDelay?: boolean }): Promise<void>;
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
    reusePort: config.processes.count > 1,
  }, instance.ws);
  const backlog = await applyListenBacklog(server.port, config.server.listenBacklog);
  log[backlog.kind === "unavailable" ? "warn" : "info"]({ listenBacklog: backlog }, describeListenBacklog(server.port, backlog));
  const metricsServer = startMetricsServer(config, services, serve);
  log.info(
    { port: server.port, database: services.describe.database, store: services.describe.store, secretKey: services.describe.secretKey },
    `Gatehouse listening on http://${config.server.host}:${server.port} — database: ${services.describe.database}; store: ${services.describe.store}`,
  );
  let done: Promise<void> | undefined;
  return {
    services,
    instance,
    server,
    shutdown(opts = {}) {
      done ??= (async () => {
        services.lifecycle.stopReadiness();
        if (config.server.shutdownDrainDelayMs > 0 && !opts.skipDrainDelay) {
          await new Promise((r) => setTimeout(r, config.server.shutdownDrainDelayMs));
        }
        await services.lifecycle.drain();
        await server.stop(false);
        await metricsServer?.stop(true);
        await instance.stop();
        await services.close();
      })();
      return done;
    },
  };
}
