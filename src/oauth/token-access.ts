/**
 * `getOAuthToken`: a valid provider access token for a user's OAuth session, refreshed when
 * close to expiry. Refresh is single-flight: in-process callers share one promise; across
 * instances a store lock per session (`SET NX PX`) admits one refresher, which re-reads the row
 * after taking the lock (refresh-token rotation makes a second refresh with the old token fail),
 * and waiters re-read the row the winner wrote, or take the outcome it published. A transient
 * failure keeps the session; only `invalid_grant` ends it.
 */
import type { KeyValueStore } from "../kv/store.ts";
import type { Logger } from "../observability/logger.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import { OAuthProviderUnavailableError, OAuthSessionEndedError, OAuthSessionNotFoundError } from "./oauth-errors.ts";
import type { OAuthSessions, OpenSession } from "./oauth-sessions.ts";
import { RefreshError, type OAuthProvider } from "./provider.ts";
import { tokenDictFrom, type TokenDict } from "./token-dict.ts";

/** What callers get: the provider name, the access token and its expiry (Unix seconds). */
export interface ProviderToken {
  provider: string;
  access_token: string;
  expires_at: number;
}

/** Tunables (tests shorten them). */
export interface TokenAccessOptions {
  /** Refresh when fewer seconds than this remain (default 300; capped at half the token's lifetime). */
  skewSeconds?: number;
  /** Lock lifetime: longer than one provider request may take (default 30 s). */
  lockTtlMs?: number;
  /** How long a caller waits for another instance's refresh (default 20 s). */
  waitMs?: number;
  /** Where refresh outcomes are audited. */
  audit?: AuditTrail;
}

type Outcome = "ok" | "transient" | "invalid_grant";

/** See the module comment. */
export class OAuthTokenAccess {
  readonly #flights = new Map<string, Promise<OpenSession>>();
  readonly #skew: number;
  readonly #lockTtlMs: number;
  readonly #waitMs: number;
  readonly #audit: AuditTrail | undefined;

  constructor(
    private readonly sessions: OAuthSessions,
    private readonly providerFor: (name: string) => OAuthProvider | undefined,
    private readonly store: KeyValueStore,
    private readonly log: Logger,
    opts: TokenAccessOptions = {},
  ) {
    this.#skew = opts.skewSeconds ?? 300;
    this.#lockTtlMs = opts.lockTtlMs ?? 30_000;
    this.#waitMs = opts.waitMs ?? 20_000;
    this.#audit = opts.audit;
  }

  /** A valid access token of session `sessionId` of `userId`, refreshing if needed. */
  async getOAuthToken(userId: string, sessionId: string): Promise<ProviderToken> {
    const open = await this.sessions.open(sessionId, userId);
    if (!open) throw new OAuthSessionNotFoundError();
    if (this.fresh(open.dict)) return answer(open);
    let flight = this.#flights.get(sessionId);
    if (!flight) {
      flight = this.#refresh(open).finally(() => this.#flights.delete(sessionId));
      this.#flights.set(sessionId, flight);
    }
    return answer(await flight);
  }

  /** True when the token is not within the refresh margin of its expiry. */
  fresh(dict: TokenDict, nowSeconds = Date.now() / 1000): boolean {
    const lifetime = Math.max(0, dict.expires_at - dict.issued_at);
    return dict.expires_at - nowSeconds > Math.min(this.#skew, lifetime / 2);
  }

  async #refresh(open: OpenSession): Promise<OpenSession> {
    const { id, user_id: userId, provider: name } = open.row;
    const provider = this.providerFor(name);
    if (!provider) throw new OAuthProviderUnavailableError(name);
    const lockKey = `oauth:refresh:${id}:lock`;
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      const owner = crypto.randomUUID();
      if (await this.store.set(lockKey, owner, { onlyIfAbsent: true, ttlMs: this.#lockTtlMs })) {
        try {
          return await this.#refreshLocked(id, userId, provider);
        } finally {
          // Only our own lock: it may have expired and been taken by another refresher meanwhile.
          await this.store.delIfValue(lockKey, owner).catch(() => false);
        }
      }
      await this.#waitForRelease(lockKey, deadline);
      const outcome = (await this.store.get(outcomeKey(id))) as Outcome | null;
      const again = await this.sessions.open(id, userId);
      if (!again) throw outcome === "invalid_grant" ? new OAuthSessionEndedError() : new OAuthSessionNotFoundError();
      if (this.fresh(again.dict)) return again;
      if (outcome === "transient" || Date.now() >= deadline) throw new OAuthProviderUnavailableError(name);
    }
  }

  async #refreshLocked(id: string, userId: string, provider: OAuthProvider): Promise<OpenSession> {
    const current = await this.sessions.open(id, userId);
    if (!current) throw new OAuthSessionNotFoundError();
    if (this.fresh(current.dict)) return current;
    let dict: TokenDict;
    try {
      const response = await provider.refresh(current.dict);
      dict = tokenDictFrom(response, Math.floor(Date.now() / 1000), current.dict);
    } catch (e) {
      if (e instanceof RefreshError && e.failure === "invalid_grant") {
        await this.sessions.repo.deleteIds([id]);
        await this.#publish(id, "invalid_grant");
        this.#audit?.record("oauth_refresh", "ended", { oauthSessionId: id, userId, provider: provider.name, reason: "invalid_grant" });
        throw new OAuthSessionEndedError();
      }
      await this.#publish(id, "transient");
      this.#audit?.record("oauth_refresh", "failure", { oauthSessionId: id, userId, provider: provider.name, reason: e instanceof RefreshError ? e.code : "invalid_response" });
      throw new OAuthProviderUnavailableError(provider.name);
    }
    await this.sessions.update(id, dict);
    await this.#publish(id, "ok");
    this.#audit?.record("oauth_refresh", "success", { oauthSessionId: id, userId, provider: provider.name });
    return { row: { ...current.row, expires_at: dict.expires_at }, dict };
  }

  async #publish(id: string, outcome: Outcome): Promise<void> {
    await this.store.set(outcomeKey(id), outcome, { ttlMs: 5_000 }).catch(() => false);
  }

  async #waitForRelease(lockKey: string, deadline: number): Promise<void> {
    while (Date.now() < deadline && (await this.store.get(lockKey)) !== null) await sleep(25);
  }
}

function outcomeKey(id: string): string {
  return `oauth:refresh:${id}:outcome`;
}

function answer(s: OpenSession): ProviderToken {
  return { provider: s.row.provider, access_token: s.dict.access_token, expires_at: s.dict.expires_at };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
