import type { Config } from "../config/config.ts";
import type { Services } from "../services.ts";
import type { FetchHandler } from "./request-accounting.ts";
import { metricsOnlyApp } from "./metrics-route.ts";

/** A listener, as the runtime adapters return it. */
interface Listener {
  port: number;
  stop(force?: boolean): Promise<void>;
}

/**
 * `/metrics` on its own port (`GATEHOUSE_METRICS_PORT`, on `HOST`), so it can be kept off
 * the public listener; null when unset (then `/metrics` is on the main port).
 */
export function startMetricsServer(
  config: Config,
  s: Pick<Services, "registry" | "log">,
  serve: (fetch: FetchHandler, opts: { host: string; port: number; maxBodyBytes: number }) => Listener,
): Listener | null {
  if (config.server.metricsPort === null) return null;
  const app = metricsOnlyApp(s.registry, config.server.metricsToken);
  // With GATEHOUSE_PROCESSES > 1 each process has its own port (base + index): one scrape target per process.
  const port = config.server.metricsPort + (config.processes.index ?? 0);
  const listener = serve((req) => app.handle(req), { host: config.server.host, port, maxBodyBytes: 1024 });
  s.log.info({ port: listener.port }, `metrics on http://${config.server.host}:${listener.port}/metrics`);
  return listener;
}
