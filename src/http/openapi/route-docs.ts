import type { AnyElysia } from "elysia";
import { COMMON_ERRORS, ERROR_MEANINGS, ROUTE_CATALOG, type RouteDoc } from "./route-catalog.ts";
import { ref } from "./schemas.ts";

/** Security requirement of authenticated routes: any one of the three credentials. */
const AUTHENTICATED = [{ bearer: [] }, { cookie: [] }, { apiKey: [] }];

const RETRY_AFTER = { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } } };

/** The key a route has in {@link ROUTE_CATALOG}. */
export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

function okSchema(name: string): Record<string, unknown> {
  if (name === "true") return { const: true };
  if (name === "boolean") return { type: "boolean" };
  if (name.endsWith("[]")) return { type: "array", items: ref(name.slice(0, -2)) };
  return ref(name);
}

/** The OpenAPI operation fields (summary, tags, security, responses) for one documented route. */
export function operationFor(doc: RouteDoc): Record<string, unknown> {
  const ok = doc.ok.schema === undefined
    ? { description: doc.ok.description }
    : { description: doc.ok.description, content: { [doc.ok.contentType ?? "application/json"]: { schema: okSchema(doc.ok.schema) } } };
  const responses: Record<string, unknown> = {
    [String(doc.ok.status)]: doc.ok.contentType && doc.ok.schema === undefined
      ? { description: doc.ok.description, content: { [doc.ok.contentType]: { schema: { type: "string" } } } }
      : ok,
  };
  const statuses = new Set([...doc.errors, ...Object.keys(COMMON_ERRORS).map(Number)]);
  for (const status of [...statuses].sort((a, b) => a - b)) {
    responses[String(status)] = {
      description: doc.errors.includes(status) ? (ERROR_MEANINGS[status] ?? "Error") : COMMON_ERRORS[status]!,
      content: { "application/json": { schema: ref("Detail") } },
      ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
    };
  }
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    security: doc.access === "public" ? [] : AUTHENTICATED,
    responses,
  };
}

/**
 * Attaches each catalogued route's documentation to the route as its `detail`, which is
 * what the OpenAPI plugin publishes. Call once, after every route is registered. Returns
 * the routes found without an entry (hidden ones excepted), for the test to fail on.
 */
export function applyRouteDocs(app: AnyElysia, catalog: Record<string, RouteDoc> = ROUTE_CATALOG): string[] {
  const undocumented: string[] = [];
  for (const route of app.routes) {
    const hooks = (route.hooks ?? {}) as { detail?: Record<string, unknown> };
    if (hooks.detail?.["hide"] === true) continue;
    const doc = catalog[routeKey(route.method, route.path)];
    if (!doc) {
      undocumented.push(routeKey(route.method, route.path));
      continue;
    }
    hooks.detail = { ...hooks.detail, ...operationFor(doc) };
    (route as { hooks: unknown }).hooks = hooks;
  }
  return undocumented;
}
