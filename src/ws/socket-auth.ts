import type { CurrentUserResolver } from "../auth/current-user.ts";
import type { UserRecord } from "../db/repos/users.ts";
import type { TokenClaims } from "../auth/session-tokens.ts";
import type { WsAuthFailureReason } from "../observability/ws-metrics.ts";
import { CLOSE } from "./protocol.ts";

/** The outcome of checking a socket's token. */
export type SocketAuthResult =
  | { ok: true; user: UserRecord; claims: TokenClaims }
  | { ok: false; reason: WsAuthFailureReason; closeCode: number };

/** Host of the synthetic request; never leaves the process. */
const INTERNAL_URL = "http://gatehouse.internal/ws";

/**
 * Verifies a socket's session token through the very path HTTP uses
 * (`CurrentUserResolver.verified`: signature, revocation replica, user exists, role
 * `user`/`admin`, trusted-header match), by presenting it as `Authorization: Bearer`.
 * API keys are refused: a socket must carry a revocable session (a `jti`).
 */
export class SocketAuthenticator {
  constructor(
    private readonly current: CurrentUserResolver,
    /** The trusted email header name (lower case), when configured. */
    private readonly trustedEmailHeader: string | null,
  ) {}

  async authenticate(token: string, trustedEmail: string | null): Promise<SocketAuthResult> {
    if (token.startsWith("sk-")) return refused("api_key");
    let request: Request;
    try {
      request = new Request(INTERNAL_URL, { headers: { authorization: `Bearer ${token}` } });
    } catch {
      // Not a valid header value (control characters): not a token we could have issued.
      return refused("invalid");
    }
    try {
      // Vetted at the upgrade (socketSeed), where the socket peer was known.
      const p = await this.current.verified(request, { trustedEmail: this.trustedEmailHeader ? trustedEmail : null });
      if (p.via !== "jwt" || !p.claims) return refused("api_key");
      return { ok: true, user: p.user, claims: p.claims };
    } catch (e) {
      return classify(e);
    }
  }
}

function refused(reason: WsAuthFailureReason): SocketAuthResult {
  return { ok: false, reason, closeCode: CLOSE.UNAUTHORIZED };
}

/** Maps the HTTP path's error codes to a bounded reason and a close code. */
function classify(e: unknown): SocketAuthResult {
  const code = (e as { code?: unknown }).code;
  const status = (e as { status?: unknown }).status;
  if (typeof status === "number" && status >= 500) return { ok: false, reason: "unavailable", closeCode: CLOSE.TRY_LATER };
  switch (code) {
    case "ERR_TOKEN_EXPIRED": return refused("expired");
    case "ERR_TOKEN_REVOKED": return refused("revoked");
    case "ERR_USER_GONE": return refused("user_gone");
    case "ERR_ROLE_PENDING": return refused("pending");
    case "ERR_TRUSTED_USER_MISMATCH": return refused("user_mismatch");
    case "ERR_API_KEYS_DISABLED":
    case "ERR_API_KEY_UNKNOWN": return refused("api_key");
  }
  if (typeof status === "number" && status >= 400) return refused("invalid");
  return { ok: false, reason: "error", closeCode: CLOSE.INTERNAL };
}
