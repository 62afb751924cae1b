import { createRequestStorage } from "../platform.ts";

/**
 * What Gatehouse knows about the HTTP request being served: its id (for log lines), the
 * matched route (for bounded metric labels) and the database checkouts made on its behalf.
 */
export interface RequestScope {
  /** `X-Request-Id` as received when well-formed, else generated; echoed on the response. */
  requestId?: string;
  checkouts: number;
  waitSeconds: number;
  /** The matched route template, set by the HTTP layer once routing is done. */
  route?: string;
}

const storage = createRequestStorage<RequestScope>();

/** Runs `fn` with `scope` as the current request scope; every checkout made inside is added to it. */
export function withRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the request being served, if any (background jobs have none). */
export function currentRequestScope(): RequestScope | undefined {
  return storage.get();
}

/** A scope with nothing counted yet. */
export function newRequestScope(requestId?: string): RequestScope {
  return requestId === undefined ? { checkouts: 0, waitSeconds: 0 } : { requestId, checkouts: 0, waitSeconds: 0 };
}

/** Runs `fn` outside any request scope: background work it starts (timers, flushes) is not billed to the request. */
export function outsideRequestScope<T>(fn: () => T): T {
  return storage.exit(fn);
}
