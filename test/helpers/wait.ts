/**
 * Polls `probe` until it returns something other than undefined, null or false, and
 * resolves with that; fails naming `what` after `ms`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 5000,
  everyMs = 20,
): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (performance.now() >= deadline) throw new Error(`${what}: did not happen within ${ms} ms`);
    await Bun.sleep(everyMs);
  }
}

/** Polls `check` until true and resolves with how long it took (ms); fails after `ms` (for "within N ms" checks). */
export async function within(ms: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const started = performance.now();
  await waitFor(`not within ${ms} ms`, check, ms, 10);
  return performance.now() - started;
}
