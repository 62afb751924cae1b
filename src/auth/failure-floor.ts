/** Verifications remembered for the floor: enough to keep a legacy hash's cost in view. */
const WINDOW = 64;

/**
 * Makes every failed password sign-in take at least as long as the slowest password
 * verification seen recently (capped), so the response time does not tell an unknown email
 * (a dummy argon2id verification) from a known one with a legacy bcrypt hash, which costs
 * several times more. The wait is a timer, not CPU.
 *
 * It learns a verification's own duration only: {@link measure} times a verification that
 * starts at once and skips one that waits in line for a crypto thread, so a burst's queue
 * waits never raise the floor (they once put every failed sign-in of everyone at the cap).
 */
export class FailureFloor {
  readonly #samples: number[] = [];
  #next = 0;

  constructor(private readonly capMs = 2000) {}

  /**
   * Runs `verify`, and learns its duration when `startsNow` — asked in the same tick as the
   * submission — says nothing is ahead of it in line.
   */
  async measure<T>(verify: () => Promise<T>, startsNow: () => boolean): Promise<T> {
    if (!startsNow()) return verify();
    const started = performance.now();
    const result = await verify();
    this.observe(performance.now() - started);
    return result;
  }

  /** Records how long one verification took, in ms. */
  observe(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.#samples.length < WINDOW) this.#samples.push(ms);
    else this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % WINDOW;
  }

  /** The least time a failed sign-in takes now, in ms. */
  floorMs(): number {
    let max = 0;
    for (const s of this.#samples) if (s > max) max = s;
    return Math.min(this.capMs, max);
  }

  /** Waits until `startedMs` (performance.now()) + the floor has passed. */
  async pad(startedMs: number): Promise<void> {
    const wait = this.floorMs() - (performance.now() - startedMs);
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.ceil(wait)));
  }
}
