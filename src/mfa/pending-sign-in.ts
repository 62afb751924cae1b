import type { KeyValueStore } from "../kv/store.ts";
import type { FirstStep } from "../auth/second-factor.ts";
import { encodeBase64Url } from "../crypto/base64url.ts";
import { readCookie, setCookie, deleteCookie, type CookiePolicy } from "../auth/cookies.ts";
import { MfaError } from "./mfa-errors.ts";

/** The HttpOnly cookie holding the nonce that binds an `mfa_token` to the browser that got it. */
export const COOKIE_MFA_NONCE = "gatehouse_mfa";

/** A first step that succeeded and waits for its second. */
export interface PendingSignIn extends FirstStep {
  userId: string;
  /** sha256(User-Agent, nonce cookie): the client the token was handed to. */
  client: string;
}

const encoder = new TextEncoder();

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function random(bytes: number): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * `mfa_token`s: opaque random values (never a JWT, so never accepted as a session), kept in
 * the shared store under their digest for `ttlSeconds`, bound to the user and the client (the
 * User-Agent plus an HttpOnly nonce cookie), and deleted by the one verification that wins.
 */
export class PendingSignIns {
  constructor(
    private readonly store: KeyValueStore,
    private readonly cookies: CookiePolicy,
    private readonly ttlSeconds: number,
  ) {}

  static async clientOf(request: Request, nonce: string): Promise<string> {
    return sha256Hex(`${request.headers.get("user-agent") ?? ""}\n${nonce}`);
  }

  /** Starts a second step; returns the token for the body and the nonce cookie to set. */
  async begin(request: Request, p: Omit<PendingSignIn, "client">): Promise<{ token: string; cookie: string }> {
    const token = random(32);
    const nonce = random(16);
    const pending: PendingSignIn = { ...p, client: await PendingSignIns.clientOf(request, nonce) };
    await this.store.set(await this.#key(token), JSON.stringify(pending), { ttlMs: this.ttlSeconds * 1000 });
    const expiresAt = Math.floor(Date.now() / 1000) + this.ttlSeconds;
    return { token, cookie: setCookie(COOKIE_MFA_NONCE, nonce, this.cookies, { httpOnly: true, expiresAt }) };
  }

  /**
   * The pending sign-in of `token` when it exists and this request comes from its client.
   * @throws MfaError `ERR_MFA_TOKEN_INVALID` otherwise (one answer for every reason).
   */
  async peek(token: string, request: Request): Promise<PendingSignIn> {
    const nonce = readCookie(request.headers.get("cookie"), COOKIE_MFA_NONCE);
    if (!token || token.length > 128 || !nonce) throw new MfaError("ERR_MFA_TOKEN_INVALID");
    const raw = await this.store.get(await this.#key(token));
    if (raw === null) throw new MfaError("ERR_MFA_TOKEN_INVALID");
    const pending = JSON.parse(raw) as PendingSignIn;
    if (pending.client !== (await PendingSignIns.clientOf(request, nonce))) throw new MfaError("ERR_MFA_TOKEN_INVALID");
    return pending;
  }

  /** Deletes the token; true for exactly one caller, so a token completes one sign-in at most. */
  async consume(token: string): Promise<boolean> {
    return (await this.store.del(await this.#key(token))) === 1;
  }

  /** The `Set-Cookie` that removes the nonce after the second step. */
  clearCookie(): string {
    return deleteCookie(COOKIE_MFA_NONCE, this.cookies, true);
  }

  async #key(token: string): Promise<string> {
    return `mfa:pending:${await sha256Hex(token)}`;
  }
}
