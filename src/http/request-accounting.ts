import { Elysia } from "elysia";
import type { DbMetrics } from "../observability/db-metrics.ts";
import { appendHeader } from "./respond.ts";
import { currentRequestScope, newRequestScope, withRequestScope, type RequestScope } from "../observability/request-scope.ts";

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
  const record = dbAccountant(metrics);
  return async (request) => {
    // The request observer normally opened the scope already; standalone use opens its own.
    const outer = currentRequestScope();
    const scope = outer ?? newRequestScope();
    const response = outer ? await fetch(request) : await withRequestScope(scope, () => fetch(request));
    record(scope.route ?? UNMATCHED_ROUTE, scope);
    return appendHeader(response, "server-timing", serverTiming(scope));
  };
}

/** Observes a finished request's checkouts and checkout wait under its route (children pre-bound per route). */
export function dbAccountant(metrics: DbMetrics): (route: string, scope: RequestScope) => void {
  // Series bound once per route (bound-metrics.ts).
  const children = new Map<string, { checkouts: { observe(v: number): void }; wait: { observe(v: number): void } }>();
  return (route, scope) => {
    let c = children.get(route);
    if (c === undefined) {
      c = { checkouts: metrics.requestCheckouts.bind(route), wait: metrics.requestWait.bind(route) };
      children.set(route, c);
    }
    c.checkouts.observe(scope.checkouts);
    c.wait.observe(scope.waitSeconds);
  };
}

/** `Server-Timing: db;dur=<ms>`: the request's checkout wait, not its query time. */
export function serverTiming(scope: RequestScope): string {
  return scope.waitSeconds === 0 ? "db;dur=0.00" : `db;dur=${(scope.waitSeconds * 1000).toFixed(2)}`;
}
