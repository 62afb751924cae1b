import type { UserRecord } from "../db/repos/users.ts";
import type { FirstStep, SecondStepChallenge } from "../auth/second-factor.ts";
import type { MfaService } from "./mfa-service.ts";

export type { SecondStepChallenge } from "../auth/second-factor.ts";

/**
 * The one decision every sign-in flow asks after its first step succeeded (password, LDAP,
 * OAuth; they reach it as `auth.secondFactor.challenge`): null when the user has no second factor (or the policy is `off`) — issue the session
 * as before; otherwise the challenge to answer with instead of a session. Trusted-header
 * sign-in does not call this: the proxy authenticated.
 */
export async function secondStepFor(
  mfa: MfaService,
  user: UserRecord,
  request: Request,
  first: FirstStep,
): Promise<SecondStepChallenge | null> {
  const methods = await mfa.methodsOf(user.id);
  if (methods.length === 0) return null;
  const { token, cookie } = await mfa.pending.begin(request, { userId: user.id, ...first });
  return { body: { mfa_required: true, mfa_token: token, methods }, cookie };
}
