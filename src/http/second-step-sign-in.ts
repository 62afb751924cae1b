import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { IssuedSession } from "../auth/session-issuer.ts";
import { COOKIE_OAUTH_SESSION, setCookie } from "../auth/cookies.ts";
import type { UserRecord } from "../db/repos/users.ts";
import type { PendingSignIn } from "../mfa/pending-sign-in.ts";
import { signInContext } from "./signed-in.ts";

/**
 * Issues the session a pending sign-in waited for, once its second factor (`factor`, an `amr`
 * value) is proven: method and `amr` of the first step, and — after an OAuth callback — the
 * provider session it held, stored now (pruning beyond the per-user limit) and linked to the
 * device session, so the provider token, pruning and back-channel logout reach this device.
 * The cookies: the session's, and the `oauth_session_id` cookie again, now lasting as long as the
 * session (the challenge set it without an expiry).
 */
export async function issueAfterSecondStep(
  s: Services,
  auth: AuthModule,
  request: Request,
  user: UserRecord,
  pending: PendingSignIn,
  factor: string,
): Promise<{ issued: IssuedSession; cookies: string[] }> {
  const held = pending.providerSession;
  if (held) await auth.keepProviderSession?.(user.id, held);
  const ctx = { ...signInContext(s, request, pending.method, [...pending.amr, factor]), oauthSessionId: held?.id ?? null };
  const issued = await auth.issuer.issue(user, ctx);
  const cookies = [issued.cookie];
  if (held) cookies.push(setCookie(COOKIE_OAUTH_SESSION, held.id, auth.cookies, { httpOnly: true, expiresAt: issued.expiresAt }));
  return { issued, cookies };
}
