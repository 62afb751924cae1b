import type { KeyValueStore } from "../kv/store.ts";

/**
 * Whether the shared store is known to be down, from the revocation service's point of view:
 * set by a lost key watch or a failed command, cleared when the watch is re-established or a
 * ping answers (a failed command need not drop the watch, so no reset would follow).
 */
export class StoreOutage {
  #down = false;
  #pinging = false;
  #running = false;

  constructor(
    private readonly store: KeyValueStore,
    /** Called when the store is first seen down (not again until it is back). */
    private readonly onDown: () => void,
    /** Called when it is back. */
    private readonly onBack: () => void,
    private readonly pingEveryMs = 1000,
  ) {}

  /** True from a failure until the store is seen back. */
  get down(): boolean {
    return this.#down;
  }

  /** Enables reporting (a one-shot user such as the CLI never starts it: no background pings). */
  start(): void {
    this.#running = true;
  }

  stop(): void {
    this.#running = false;
  }

  /** The store failed. The in-memory store never does. */
  failed(): void {
    if (!this.#running || this.store.kind === "memory") return;
    if (!this.#down) {
      this.#down = true;
      this.onDown();
    }
    this.#pingUntilBack();
  }

  /** The store is back (its key watch was re-established). */
  back(): void {
    const was = this.#down;
    this.#down = false;
    if (was) this.onBack();
  }

  #pingUntilBack(): void {
    if (this.#pinging) return;
    this.#pinging = true;
    const attempt = () => {
      if (!this.#running) {
        this.#pinging = false;
        return;
      }
      void this.store.ping().then(
        () => {
          this.#pinging = false;
          this.back();
        },
        () => void setTimeout(attempt, this.pingEveryMs),
      );
    };
    attempt();
  }
}
