import { Registry, collectDefaultMetrics } from "prom-client";

/**
 * A dedicated Prometheus registry for one Gatehouse instance, with the default
 * process metrics. Each instance (and each test app) gets its own, so definitions
 * never collide in the global registry.
 */
export function createRegistry(opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}
