import type { UserRecord } from "../db/repos/users.ts";
import type { AuthMethod, DeviceSessionsRepo } from "../db/repos/device-sessions.ts";
import type { SessionTokenCodec } from "./session-tokens.ts";
import { setCookie, COOKIE_TOKEN, type CookiePolicy } from "./cookies.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";

/** A freshly issued session. */
export interface IssuedSession {
  token: string;
  jti: string;
  /** Unix seconds, or null when tokens never expire (`JWT_EXPIRES_IN=-1`). */
  expiresAt: number | null;
  /** The `Set-Cookie` for the `token` cookie. */
  cookie: string;
}

/** Where a sign-in came from, recorded on the device session. */
export interface SignInContext {
  method: AuthMethod;
  userAgent: string | null;
  ip: string | null;
  oauthSessionId?: string | null;
  /** Authentication methods (`pwd`, `otp`, `hwk`, `oauth`, `ldap`); default from `method`. */
  amr?: readonly string[];
}

/** The `amr` a sign-in method stands for when the flow names none (trusted header: none). */
export function defaultAmr(method: AuthMethod): string[] {
  if (method === "password" || method === "signup") return ["pwd"];
  if (method === "oauth") return ["oauth"];
  return (method as string) === "ldap" ? ["ldap"] : [];
}

/**
 * Issues Open WebUI-shaped tokens (`id`, `exp`, `jti`, `iat`) and records each one as a
 * device session, so it can be listed and revoked.
 */
export class SessionIssuer {
  constructor(
    private readonly tokens: SessionTokenCodec,
    private readonly sessions: DeviceSessionsRepo,
    /** Seconds, or null for "never" (JWT_EXPIRES_IN). */
    private readonly lifetimeSeconds: number | null,
    private readonly cookies: CookiePolicy,
    /** The user's per-user revocation time, if any. */
    private readonly revokedAt: (userId: string) => Promise<number | null> = async () => null,
    /** Every issued session is audited as a sign-in (or sign-up) with its method. */
    private readonly audit?: AuditTrail,
    /** Refuses (throws) a user who may not sign in (`GATEHOUSE_ACCESS_GROUPS`); renewals are not asked. */
    private readonly admit: (user: UserRecord, ctx: SignInContext) => Promise<void> = async () => {},
  ) {}

  /**
   * `iat` is in whole seconds and `iat <= revoked_at` is refused, so a sign-in in the same
   * second as a "sign out everywhere" would be born dead; such a token gets `revoked_at + 1`
   * (within the verifier's clock leeway).
   */
  async #iat(userId: string, nowMs: number): Promise<number> {
    const now = Math.floor(nowMs / 1000);
    const revoked = await this.revokedAt(userId);
    return revoked !== null && revoked >= now && revoked - now < 10 ? revoked + 1 : now;
  }

  async issue(user: UserRecord, ctx: SignInContext, nowMs = Date.now()): Promise<IssuedSession> {
    const iat = await this.#iat(user.id, nowMs);
    // Asked after iat is fixed: a membership removal that commits after this check is revoked
    // at or after iat, so the token issued here is refused with the rest.
    await this.admit(user, ctx);
    const exp = this.lifetimeSeconds === null ? undefined : Math.floor(nowMs / 1000 + this.lifetimeSeconds);
    const jti = crypto.randomUUID();
    const amr = ctx.amr ?? defaultAmr(ctx.method);
    const token = await this.tokens.sign({ id: user.id, exp, jti, iat, amr });
    await this.sessions.record({
      id: jti,
      user_id: user.id,
      expires_at: exp ?? null,
      user_agent: ctx.userAgent?.slice(0, 512) ?? null,
      ip: ctx.ip,
      auth_method: ctx.method,
      oauth_session_id: ctx.oauthSessionId ?? null,
      amr: amr.join(",") || null,
    });
    this.audit?.record(ctx.method === "signup" ? "signup" : "signin", "success", { userId: user.id, method: ctx.method, session: jti, ip: ctx.ip });
    return { token, jti, expiresAt: exp ?? null, cookie: setCookie(COOKIE_TOKEN, token, this.cookies, { httpOnly: true, expiresAt: exp ?? null }, nowMs / 1000) };
  }

  /**
   * A fresh token for the same device session (same `jti`, new `iat`/`exp`), so revoking
   * the session revokes both the old and the renewed token.
   */
  async renew(user: UserRecord, jti: string, nowMs = Date.now()): Promise<IssuedSession> {
    const iat = await this.#iat(user.id, nowMs);
    const exp = this.lifetimeSeconds === null ? undefined : Math.floor(nowMs / 1000 + this.lifetimeSeconds);
    // The device session keeps how it was made; the renewed token says so again.
    const amr = await this.sessions.extend(jti, exp ?? null);
    const token = await this.tokens.sign({ id: user.id, exp, jti, iat, amr });
    return { token, jti, expiresAt: exp ?? null, cookie: setCookie(COOKIE_TOKEN, token, this.cookies, { httpOnly: true, expiresAt: exp ?? null }, nowMs / 1000) };
  }

  /** True when a token is in the last quarter of its life and should be re-issued. */
  shouldRenew(claims: { iat?: number; exp?: number }, nowSeconds = Date.now() / 1000): boolean {
    if (claims.exp === undefined || claims.iat === undefined) return false;
    return claims.exp - nowSeconds < (claims.exp - claims.iat) / 4;
  }
}
