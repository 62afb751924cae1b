import { Elysia } from "elysia";
import type { Registry } from "prom-client";
import { detail } from "./error-handler.ts";

/**
 * `/metrics` in Prometheus text format, from the instance's own registry. With a token
 * (`GATEHOUSE_METRICS_TOKEN`) it answers only `Authorization: Bearer <token>` (compared in
 * constant time), else 401.
 */
export function metricsRoute(registry: Registry, token: string | null = null) {
  const expected = token === null ? null : new TextEncoder().encode(token);
  return new Elysia({ name: "gatehouse.metrics" }).get("/metrics", async ({ request }) => {
    if (expected !== null && !bearerMatches(request.headers.get("authorization"), expected)) {
      return detail(401, "Metrics require Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>", [["www-authenticate", 'Bearer realm="metrics"']]);
    }
    return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
  });
}

/** Constant-time comparison of the presented bearer token with `expected` (no early exit on the first difference). */
function bearerMatches(header: string | null, expected: Uint8Array): boolean {
  const presented = new TextEncoder().encode(header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? "");
  let diff = presented.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (presented[i] ?? 0) ^ expected[i]!;
  return diff === 0;
}

/** The metrics endpoint alone, for `GATEHOUSE_METRICS_PORT`. */
export function metricsOnlyApp(registry: Registry, token: string | null) {
  return new Elysia({ name: "gatehouse.metrics-port" }).use(metricsRoute(registry, token));
}
