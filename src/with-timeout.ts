/** Something did not settle within the time it was given. */
export class TimeoutError extends Error {
  readonly code = "ERR_TIMEOUT";

  constructor(readonly what: string, readonly ms: number) {
    super(`${what} did not answer within ${ms} ms`);
  }
}

/**
 * `p`, or a {@link TimeoutError} naming `what` once `ms` have passed. The timer is cleared
 * either way, so nothing is left to keep the process alive.
 */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
