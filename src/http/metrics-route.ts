import { Elysia } from "elysia";
import type { Registry } from "prom-client";

/** `/metrics` in Prometheus text format, from the instance's own registry. */
export function metricsRoute(registry: Registry) {
  return new Elysia({ name: "gatehouse.metrics" }).get("/metrics", async () =>
    new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } }),
  );
}
