/**
 * The login transaction between `/oauth/{provider}/login` and its callback: secrets in the
 * shared store under the `state` (single use, 10 minutes), the state itself in a short-lived
 * HttpOnly cookie binding the transaction to the browser that started it.
 */
import * as oauth from "oauth4webapi";
import type { KeyValueStore } from "../kv/store.ts";
import { deleteCookie, readCookie, setCookie, type CookiePolicy } from "../auth/cookies.ts";
import { OAuthLoginError } from "./oauth-errors.ts";
import type { LoginSecrets } from "./provider.ts";

/** The cookie carrying the pending login's state. */
export const COOKIE_OAUTH_STATE = "gatehouse_oauth_state";
const TTL_SECONDS = 600;

interface Stored extends LoginSecrets {
  provider: string;
  /** Where to send the browser after success (a local path). */
  next: string;
  userId?: string;
}

/** A pending login as the callback sees it. */
export type PendingLogin = Stored;

/** Starts and consumes login transactions. */
export class LoginTransactions {
  readonly #cookies: CookiePolicy;

  constructor(
    private readonly store: KeyValueStore,
    cookies: CookiePolicy,
  ) {
    // The provider's redirect back is a cross-site navigation: a Strict cookie would never arrive.
    this.#cookies = { ...cookies, sameSite: cookies.sameSite === "strict" ? "lax" : cookies.sameSite };
  }

  /** New secrets, stored; returns them and the `Set-Cookie` for the state. */
  async begin(provider: string, redirectUri: string, extra: { next?: string; userId?: string } = {}): Promise<{ secrets: LoginSecrets; cookie: string }> {
    const secrets: LoginSecrets = {
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
      codeVerifier: oauth.generateRandomCodeVerifier(),
      redirectUri,
    };
    const stored: Stored = { ...secrets, provider, next: extra.next ?? "/auth", ...(extra.userId ? { userId: extra.userId } : {}) };
    await this.store.set(key(secrets.state), JSON.stringify(stored), { ttlMs: TTL_SECONDS * 1000 });
    const cookie = setCookie(COOKIE_OAUTH_STATE, secrets.state, this.#cookies, { httpOnly: true, expiresAt: Math.floor(Date.now() / 1000) + TTL_SECONDS });
    return { secrets, cookie };
  }

  /**
   * Checks the callback's `state` against the browser's cookie and consumes the stored
   * transaction exactly once. Mismatch, replay and expiry each throw `OAuthLoginError`.
   */
  async consume(request: Request, provider: string): Promise<PendingLogin> {
    const state = new URL(request.url).searchParams.get("state");
    const cookieState = readCookie(request.headers.get("cookie"), COOKIE_OAUTH_STATE);
    if (!state) throw new OAuthLoginError("missing_state", "callback without state");
    if (!cookieState || cookieState !== state) throw new OAuthLoginError("state_mismatch", "state does not match this browser's login");
    const raw = await this.store.get(key(state));
    // del() counts: of two concurrent callbacks with the same state only one gets 1.
    if (raw === null || (await this.store.del(key(state))) !== 1) throw new OAuthLoginError("state_expired_or_used", "login expired or already completed");
    const stored = JSON.parse(raw) as Stored;
    if (stored.provider !== provider) throw new OAuthLoginError("state_mismatch", "state belongs to another provider");
    return stored;
  }

  /** Deletes the state cookie (sent with every callback answer). */
  clearCookie(): string {
    return deleteCookie(COOKIE_OAUTH_STATE, this.#cookies, true);
  }
}

function key(state: string): string {
  return `oauth:login:${state}`;
}
