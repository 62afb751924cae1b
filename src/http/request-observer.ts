import type { Logger } from "../observability/logger.ts";
import type { HttpMetrics } from "../observability/http-metrics.ts";
import type { DbMetrics } from "../observability/db-metrics.ts";
import { AccessLog } from "../observability/access-log.ts";
import { newRequestScope, withRequestScope } from "../observability/request-scope.ts";
import { dbAccountant, serverTiming, UNMATCHED_ROUTE, type FetchHandler } from "./request-accounting.ts";
import { detail } from "./error-handler.ts";
import { appendHeader, appendHeaders } from "./respond.ts";

/** An incoming `X-Request-Id` is kept only when it is this tame: it ends up in log lines. */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:@+=\/-]{1,128}$/;

/** Probe and scrape routes: logged at debug so a 5-second probe does not flood the log. */
const QUIET_ROUTES = new Set(["/health", "/healthz", "/livez", "/readyz", "/metrics", "/health/db"]);

/** What {@link withRequestObserver} reports to. */
export interface RequestObserverOptions {
  metrics: HttpMetrics;
  log: Logger;
  /** One access line per request (`GATEHOUSE_ACCESS_LOG`). */
  accessLog: boolean;
  /**
   * When given, the observer also does {@link withDbAccounting}'s work (checkout metrics per
   * route, `Server-Timing`) in the same pass, instead of a second wrapper around every request.
   */
  dbMetrics?: DbMetrics;
}

/**
 * The outermost wrapper: gives every request a scope with a request id (so every log line
 * written while serving it carries `reqId`), echoes `X-Request-Id`, counts the request by
 * route template and status, and writes the access line. The line names the route
 * template, never the raw path or query, which may carry a token (`/ws?token=`).
 */
export function withRequestObserver(fetch: FetchHandler, opts: RequestObserverOptions): FetchHandler {
  // The access line holds only fields built here (a validated id, the method, a route
  // template, numbers): it is serialised directly and written in batches (access-log.ts).
  const access = opts.accessLog ? new AccessLog(opts.log) : null;
  const db = opts.dbMetrics ? dbAccountant(opts.dbMetrics) : null;
  return async (request) => {
    const started = performance.now();
    const incoming = request.headers.get("x-request-id");
    const requestId = incoming !== null && ACCEPTED_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    const scope = newRequestScope(requestId);
    let response: Response;
    try {
      response = await withRequestScope(scope, () => fetch(request));
    } catch (e) {
      opts.log.error({ reqId: requestId, err: (e as Error)?.message }, "request failed outside the app's error handler");
      response = detail(500, "Internal Server Error");
    }
    const seconds = (performance.now() - started) / 1000;
    const route = scope.route ?? UNMATCHED_ROUTE;
    const method = request.method;
    const status = response.status;
    opts.metrics.observe(method, route, status, seconds);
    if (db) db(route, scope);
    access?.write({
      reqId: requestId, method, route, status,
      ms: Math.round(seconds * 10_000) / 10, dbWaitMs: Math.round(scope.waitSeconds * 10_000) / 10, dbCheckouts: scope.checkouts,
    }, QUIET_ROUTES.has(route));
    // One pass over the response's headers for both (a copy only when they are immutable).
    return db ? appendHeaders(response, "server-timing", serverTiming(scope), "x-request-id", requestId) : appendHeader(response, "x-request-id", requestId);
  };
}
