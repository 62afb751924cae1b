/** Why a permit was not granted. */
export type PermitRefusal = "timeout" | "saturated";

interface Waiter {
  grant: () => void;
  refuse: (why: PermitRefusal) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A FIFO counting semaphore with a bounded wait queue and a per-acquire deadline.
 * It is what gives postgres.js (which queues without bound and has no acquire timeout)
 * HikariCP-like checkout semantics: at most `max` holders, at most `maxWaiters` queued,
 * each waiter refused once its deadline passes.
 */
export class Permits {
  #held = 0;
  readonly #queue: Waiter[] = [];

  constructor(readonly max: number, readonly maxWaiters: number) {}

  /** Permits currently held. */
  get held(): number {
    return this.#held;
  }

  /** Acquirers currently queued. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Resolves when a permit is held; rejects with `"saturated"` at once when the queue is
   * full, or `"timeout"` after `timeoutMs`.
   */
  acquire(timeoutMs: number): Promise<void> {
    if (this.#held < this.max && this.#queue.length === 0) {
      this.#held++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.maxWaiters) return Promise.reject<void>("saturated" satisfies PermitRefusal);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        refuse: reject,
        timer: setTimeout(() => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject("timeout" satisfies PermitRefusal);
        }, timeoutMs),
      };
      this.#queue.push(waiter);
    });
  }

  /** Returns a permit; the oldest waiter, if any, gets it directly. */
  release(): void {
    const next = this.#queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.grant();
      return;
    }
    if (this.#held > 0) this.#held--;
  }

  /** Refuses every queued waiter (used at shutdown). */
  refuseAll(): void {
    for (const w of this.#queue.splice(0)) {
      clearTimeout(w.timer);
      w.refuse("timeout");
    }
  }
}
