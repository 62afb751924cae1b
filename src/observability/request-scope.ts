import { AsyncLocalStorage } from "node:async_hooks";

/** Database accounting for one HTTP request, filled in by the pool as it serves checkouts. */
export interface RequestDbScope {
  checkouts: number;
  waitSeconds: number;
  /** The matched route template, set by the HTTP layer once routing is done. */
  route?: string;
}

const storage = new AsyncLocalStorage<RequestDbScope>();

/** Runs `fn` with a fresh scope; every checkout made inside is added to it. */
export function withRequestScope<T>(scope: RequestDbScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the request being served, if any (background jobs have none). */
export function currentRequestScope(): RequestDbScope | undefined {
  return storage.getStore();
}

/** A scope with nothing counted yet. */
export function newRequestScope(): RequestDbScope {
  return { checkouts: 0, waitSeconds: 0 };
}
