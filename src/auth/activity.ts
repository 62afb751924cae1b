import type { Logger } from "../observability/logger.ts";
import { unrefInterval } from "../platform.ts";
import type { UsersRepo } from "../db/repos/users.ts";
import type { DeviceSessionsRepo } from "../db/repos/device-sessions.ts";

/**
 * Throttled, batched `last_active_at` / `last_seen_at` writes (DESIGN §4.7): a request only
 * notes the time in memory; a timer writes all notes in two statements per interval.
 */
export class ActivityRecorder {
  readonly #users = new Map<string, number>();
  readonly #sessions = new Map<string, number>();
  readonly #lastWritten = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly users: UsersRepo,
    private readonly sessions: DeviceSessionsRepo,
    private readonly intervalSeconds: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#timer = unrefInterval(() => void this.flush(), this.intervalSeconds * 1000);
  }

  /** Notes activity; costs a map lookup unless the interval has passed for this user. */
  note(userId: string, sessionId: string | undefined, nowSeconds = Math.floor(Date.now() / 1000)): void {
    const last = this.#lastWritten.get(userId) ?? 0;
    if (nowSeconds - last < this.intervalSeconds) return;
    this.#lastWritten.set(userId, nowSeconds);
    this.#users.set(userId, nowSeconds);
    if (sessionId) this.#sessions.set(sessionId, nowSeconds);
    if (this.#lastWritten.size > 100_000) this.#lastWritten.clear();
  }

  /** Writes everything noted so far. */
  async flush(): Promise<void> {
    if (this.#users.size === 0 && this.#sessions.size === 0) return;
    const users = new Map(this.#users);
    const sessions = new Map(this.#sessions);
    this.#users.clear();
    this.#sessions.clear();
    try {
      await this.users.touchLastActive(users);
      await this.sessions.touch(sessions);
    } catch (e) {
      this.log.warn({ err: (e as Error).message, users: users.size }, "activity write failed; will retry next interval");
      for (const [k, v] of users) if (!this.#users.has(k)) this.#users.set(k, v);
      for (const [k, v] of sessions) if (!this.#sessions.has(k)) this.#sessions.set(k, v);
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}
