/**
 * The userinfo step of an OIDC login (OIDC Core §5.3): after the code exchange and the ID-token
 * checks, the provider's userinfo endpoint is asked for the claims a conformant provider keeps
 * out of the ID token (`email`, `profile`, … when an access token is issued, §5.4). JSON and
 * signed-JWT answers are accepted; a JWT is verified against the provider's key set, and its
 * `sub` must equal the ID token's either way. The call runs before any database work, with the
 * provider timeout.
 */
import * as oauth from "oauth4webapi";
import { OAuthLoginError } from "./oauth-errors.ts";

/** What the userinfo step needs of the provider. */
export interface UserinfoContext {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  /** Verifies a signed userinfo JWT (signature, `iss`, `aud`). */
  jwks: { verify(token: string, expected: { issuer: string; audience: string }): Promise<unknown> };
  options: () => { signal: AbortSignal; [oauth.allowInsecureRequests]?: boolean };
}

/**
 * The userinfo claims for `accessToken`, checked against the ID token's `sub`.
 * @throws OAuthLoginError `userinfo_failed` (unreachable, timeout, non-200, malformed, bad
 * signature) or `userinfo_sub_mismatch`.
 */
export async function fetchUserinfo(ctx: UserinfoContext, accessToken: string, expectedSub: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await oauth.userInfoRequest(ctx.as, ctx.client, accessToken, ctx.options());
  } catch {
    throw new OAuthLoginError("userinfo_failed", "userinfo endpoint unreachable");
  }
  try {
    if (res.ok && /^application\/jwt\b/i.test(res.headers.get("content-type") ?? "")) {
      // oauth4webapi checks the JWT's claims but not its signature: that is done here, with the provider's keys.
      await ctx.jwks.verify(await res.clone().text(), { issuer: ctx.as.issuer, audience: ctx.client.client_id });
    }
    return { ...(await oauth.processUserInfoResponse(ctx.as, ctx.client, expectedSub, res)) };
  } catch (e) {
    const isSub = e instanceof oauth.OperationProcessingError && e.code === oauth.JSON_ATTRIBUTE_COMPARISON && (e.cause as { attribute?: string } | undefined)?.attribute === "sub";
    if (isSub) throw new OAuthLoginError("userinfo_sub_mismatch", "userinfo is about another subject");
    throw new OAuthLoginError("userinfo_failed", "userinfo response rejected");
  }
}

/**
 * The claims the login reads: the ID token's first, userinfo fills only what the ID token
 * lacks (the ID token is the signed, audience-bound statement; userinfo may be unsigned).
 */
export function mergeClaims(idToken: Record<string, unknown>, userinfo: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...userinfo };
  for (const [k, v] of Object.entries(idToken)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}
