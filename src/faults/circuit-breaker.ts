/** `closed`: calls go through. `open`: refused at once. `half_open`: one probe call goes through. */
export type CircuitState = "closed" | "open" | "half_open";

/** When a circuit opens and when it tries again. */
export interface CircuitOptions {
  /** Consecutive failures (failed calls or failed reconnects) that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses everything before it lets one probe call through. */
  cooldownMs: number;
}

/** A transition, as listeners see it. */
export interface CircuitTransition {
  dependency: string;
  from: CircuitState;
  to: CircuitState;
  /** Consecutive failures counted when it happened. */
  failures: number;
}

/**
 * A circuit breaker for one dependency (the store, the database). Callers ask
 * {@link allow} before touching the dependency and report the outcome; while the dependency
 * is known to be down they are refused without waiting. After `cooldownMs`, or as soon as
 * the owner sees the dependency answer again ({@link probeNow}), one call goes through as
 * the probe: success closes the circuit, failure opens it for another cooldown.
 */
export class CircuitBreaker {
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  #probeInFlight = false;
  readonly #listeners = new Set<(t: CircuitTransition) => void>();

  constructor(readonly dependency: string, private readonly opts: CircuitOptions) {}

  get state(): CircuitState {
    return this.#state;
  }

  /** True while calls are being refused (open, or half-open with its probe under way). */
  get down(): boolean {
    return this.#state !== "closed";
  }

  /** Called on every transition; returns the unsubscribe function. */
  onTransition(listener: (t: CircuitTransition) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** May a call go ahead now? In half-open, true for exactly one caller until it reports back. */
  allow(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open") {
      if (performance.now() - this.#openedAt < this.opts.cooldownMs) return false;
      this.#move("half_open");
    }
    if (this.#probeInFlight) return false;
    this.#probeInFlight = true;
    return true;
  }

  /** The dependency answered. */
  success(): void {
    this.#failures = 0;
    this.#probeInFlight = false;
    if (this.#state !== "closed") this.#move("closed");
  }

  /** The dependency failed (connection refused, timed out, cut). */
  failure(): void {
    this.#failures++;
    this.#probeInFlight = false;
    if (this.#state === "half_open" || (this.#state === "closed" && this.#failures >= this.opts.failureThreshold)) this.#open();
  }

  /** The owner saw the dependency come back (e.g. a reconnect succeeded): let the next call probe now. */
  probeNow(): void {
    if (this.#state === "open") this.#openedAt = Number.NEGATIVE_INFINITY;
  }

  #open(): void {
    this.#openedAt = performance.now();
    if (this.#state !== "open") this.#move("open");
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    const t: CircuitTransition = { dependency: this.dependency, from, to, failures: this.#failures };
    for (const l of this.#listeners) {
      try {
        l(t);
      } catch {
        // A listener's failure must not change the circuit.
      }
    }
  }
}
