import type { Logger } from "../observability/logger.ts";
import { unrefInterval } from "../platform.ts";
import type { OAuthSessions } from "./oauth-sessions.ts";
import type { OAuthTokenAccess } from "./token-access.ts";

/**
 * Background clean-up of `oauth_session` (Open WebUI never deletes expired rows): rows whose
 * access token expired are refreshed when they can be; rows without a refresh token, or whose
 * refresh the provider refuses (`invalid_grant`), are deleted. Undecryptable rows and rows
 * whose provider is unreachable are kept.
 */
export class OAuthSweep {
  #timer: ReturnType<typeof setInterval> | null = null;
  #running: Promise<number> | null = null;

  constructor(
    private readonly sessions: OAuthSessions,
    private readonly tokens: OAuthTokenAccess,
    private readonly log: Logger,
    private readonly intervalMs = 15 * 60_000,
  ) {}

  start(): void {
    this.#timer ??= unrefInterval(() => void this.runOnce().catch((e) => this.log.warn({ err: String(e) }, "oauth session sweep failed")), this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => 0);
  }

  /** One pass over up to `limit` expired rows; returns how many were deleted. */
  runOnce(limit = 200, nowSeconds = Math.floor(Date.now() / 1000)): Promise<number> {
    this.#running ??= this.#pass(limit, nowSeconds).finally(() => (this.#running = null));
    return this.#running;
  }

  async #pass(limit: number, now: number): Promise<number> {
    let deleted = 0;
    for (const row of await this.sessions.repo.expiredBefore(now, limit)) {
      const open = await this.sessions.decrypt(row);
      if (!open) continue;
      if (!open.dict.refresh_token) {
        deleted += (await this.sessions.repo.deleteIds([row.id])).length;
        continue;
      }
      try {
        await this.tokens.getOAuthToken(row.user_id, row.id);
      } catch (e) {
        if ((e as { code?: string }).code === "ERR_OAUTH_SESSION_ENDED") deleted++;
      }
    }
    if (deleted > 0) this.log.info({ deleted }, "expired oauth sessions swept");
    return deleted;
  }
}
