import { Elysia } from "elysia";
import type { DbMetrics } from "../observability/db-metrics.ts";
import { currentRequestScope, newRequestScope, withRequestScope } from "../db/request-scope.ts";

/** A fetch-style handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Route label for requests that matched no route (bounded: never the raw path). */
export const UNMATCHED_ROUTE = "unmatched";

/** Records the matched route template on the request's scope, for bounded metric labels. */
export function routeLabel() {
  const remember = ({ route }: { route?: string }) => {
    const scope = currentRequestScope();
    if (scope && route) scope.route = route;
  };
  return new Elysia({ name: "gatehouse.route-label" })
    .onTransform({ as: "global" }, remember)
    .onError({ as: "global" }, remember);
}

/**
 * Wraps the app's fetch so every request runs in its own database scope, then reports
 * the request's checkouts and total checkout wait (`gatehouse_db_request_*{route}`) and
 * answers `Server-Timing: db;dur=<ms>` — the wait, not the query time.
 */
export function withDbAccounting(fetch: FetchHandler, metrics: DbMetrics): FetchHandler {
  return async (request) => {
    const scope = newRequestScope();
    const response = await withRequestScope(scope, () => fetch(request));
    const route = scope.route ?? UNMATCHED_ROUTE;
    metrics.requestCheckouts.observe({ route }, scope.checkouts);
    metrics.requestWait.observe({ route }, scope.waitSeconds);
    try {
      response.headers.append("server-timing", `db;dur=${(scope.waitSeconds * 1000).toFixed(2)}`);
    } catch {
      // Immutable headers (a Response.redirect or a passed-through fetch response): clone them.
      const copy = new Response(response.body, response);
      copy.headers.append("server-timing", `db;dur=${(scope.waitSeconds * 1000).toFixed(2)}`);
      return copy;
    }
    return response;
  };
}
