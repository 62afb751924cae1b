/**
 * Process lifecycle shared by the HTTP layer and the entry point: readiness flips to
 * false the moment draining starts, and drain hooks (e.g. closing WebSockets with 1001)
 * run in registration order.
 */
export class Lifecycle {
  #draining = false;
  #hooksRan = false;
  readonly #drainHooks: Array<() => void | Promise<void>> = [];

  /** True once shutdown has begun; /readyz answers 503 from then on. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Registers work to do when draining starts. */
  onDrain(hook: () => void | Promise<void>): void {
    this.#drainHooks.push(hook);
  }

  /** Turns readiness off (/readyz answers 503) while requests are still served: the drain delay starts here. */
  stopReadiness(): void {
    this.#draining = true;
  }

  /** Starts draining (if not yet) and runs the hooks once (errors in one hook do not stop the others). */
  async drain(): Promise<void> {
    this.#draining = true;
    if (this.#hooksRan) return;
    this.#hooksRan = true;
    for (const hook of this.#drainHooks) {
      try {
        await hook();
      } catch {
        // A failing hook must not block shutdown; the entry point logs the outcome.
      }
    }
  }
}
