import type { Conn, StrictPool } from "./pool.ts";
import { currentRequestScope, outsideRequestScope, type RequestScope } from "../observability/request-scope.ts";

/** Most keys one batched query asks for; the rest wait for the next checkout. */
export const DEFAULT_MAX_BATCH = 256;

/**
 * Batches of one loader out at once. One: keys asked for while a batch is out wait for it and
 * go together in the next, so a burst uses one connection per loader and its batches grow with
 * the load. Measured on the 2,000-cold-users bench (bench/results/concurrency-2000-cold.md):
 * unlimited batches used all 5 connections, with 25–50 ms checkout-wait p99 and a slower first byte.
 */
export const DEFAULT_MAX_IN_FLIGHT = 1;

/** Limits of one {@link BatchLoader}. */
export interface BatchLoaderLimits {
  /** Most keys per query (default {@link DEFAULT_MAX_BATCH}). */
  maxBatch?: number;
  /** Most batches asking for or holding a connection at once (default {@link DEFAULT_MAX_IN_FLIGHT}). */
  maxInFlight?: number;
}

/** Reads the rows of `keys` on `conn`, in one query; a key without a row is left out of the map. */
export type BatchFetch<V> = (conn: Conn, keys: string[]) => Promise<Map<string, V>>;

interface Waiter<V> {
  promise: Promise<V | undefined>;
  resolve: (value: V | undefined) => void;
  reject: (err: unknown) => void;
  /** The request that asked first, billed for the wait (none for background work). */
  scope: RequestScope | undefined;
  askedAt: number;
}

/**
 * Coalesces reads by key into one query per checkout. A key asked for joins the open batch;
 * the open batch asks the pool for one connection as soon as its first key arrives (when
 * fewer than `maxInFlight` batches are out; otherwise as soon as one is back), and takes
 * every key that arrived meanwhile (up to `maxBatch`) only once the connection is granted,
 * so the longer the pool or the running batch makes it wait, the more requests one checkout
 * serves. A lone key is read at once, as without batching. So a loader keeps at most
 * `maxInFlight` checkouts out, instead of one per request.
 *
 * The connection is held only for the query: nothing else is awaited on it. The query reads
 * what is committed when it runs, which is after every key of it was asked for, so a read is
 * never older than an unbatched one would be. A failed checkout or query fails every key
 * of the batch with the pool's error (503 `ERR_DB_*`), as each would have failed alone.
 */
export class BatchLoader<V> {
  /** Keys waiting for the next checkout, oldest first. */
  readonly #open = new Map<string, Waiter<V>>();
  /** Whether the open batch has asked the pool for its connection. */
  #requested = false;
  /** Batches asking for or holding a connection. */
  #inFlight = 0;
  readonly maxBatch: number;
  readonly maxInFlight: number;

  constructor(
    private readonly pool: StrictPool,
    /** The pool op label of the batched checkout (metrics, leak reports). */
    readonly op: string,
    private readonly fetch: BatchFetch<V>,
    limits: BatchLoaderLimits = {},
  ) {
    this.maxBatch = limits.maxBatch ?? DEFAULT_MAX_BATCH;
    this.maxInFlight = limits.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  }

  /** Keys waiting for a connection right now. */
  get waiting(): number {
    return this.#open.size;
  }

  /** The row of `key`, or undefined when there is none; read together with every key asked for meanwhile. */
  load(key: string): Promise<V | undefined> {
    const joined = this.#open.get(key);
    if (joined) return joined.promise;
    let resolve!: Waiter<V>["resolve"];
    let reject!: Waiter<V>["reject"];
    const promise = new Promise<V | undefined>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#open.set(key, { promise, resolve, reject, scope: currentRequestScope(), askedAt: performance.now() });
    this.#next();
    return promise;
  }

  /** Asks for a connection for the open batch, unless it has already or too many batches are out. */
  #next(): void {
    if (this.#requested || this.#open.size === 0 || this.#inFlight >= this.maxInFlight) return;
    this.#requested = true;
    this.#inFlight++;
    let batch: Map<string, Waiter<V>> | null = null;
    // The checkout serves many requests: each is billed its own wait below, not by the pool.
    outsideRequestScope(() => this.pool.run(this.op, (conn) => {
      batch = this.#take();
      const now = performance.now();
      for (const w of batch.values()) bill(w, now, true);
      this.pool.noteBatch(this.op, batch.size);
      return this.fetch(conn, [...batch.keys()]);
    })).then(
      (rows) => {
        this.#inFlight--;
        for (const [key, w] of batch!) w.resolve(rows.get(key));
        this.#next();
      },
      (err: unknown) => {
        this.#inFlight--;
        // No connection came: the keys that were waiting for it fail with the pool's error.
        const failed = batch ?? this.#take();
        const now = performance.now();
        for (const w of failed.values()) {
          if (batch === null) bill(w, now, false);
          w.reject(err);
        }
        this.#next();
      },
    );
  }

  /** Takes the open batch (up to `maxBatch` keys); keys left over ask for their own connection. */
  #take(): Map<string, Waiter<V>> {
    const batch = new Map<string, Waiter<V>>();
    for (const [key, w] of this.#open) {
      if (batch.size >= this.maxBatch) break;
      batch.set(key, w);
    }
    for (const key of batch.keys()) this.#open.delete(key);
    this.#requested = false;
    this.#next();
    return batch;
  }
}

/** Adds a key's wait (from asking to the checkout's outcome) to the request that asked. */
function bill(w: Pick<Waiter<unknown>, "scope" | "askedAt">, now: number, checkedOut: boolean): void {
  if (!w.scope) return;
  if (checkedOut) w.scope.checkouts++;
  w.scope.waitSeconds += (now - w.askedAt) / 1000;
}
