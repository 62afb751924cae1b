import type { UserRecord } from "../db/repos/users.ts";
import type { AuthMethod } from "../db/repos/device-sessions.ts";
import type { MfaMethod, MfaService } from "./mfa-service.ts";

/** The 200 answer of a first step that needs a second one (no session, no session cookie). */
export interface SecondStepChallenge {
  body: { mfa_required: true; mfa_token: string; methods: MfaMethod[] };
  /** The HttpOnly nonce cookie binding the token to this client. */
  cookie: string;
}

/**
 * The one decision every sign-in flow asks after its first step succeeded (password, LDAP,
 * OAuth): null when the user has no second factor (or the policy is `off`) — issue the session
 * as before; otherwise the challenge to answer with instead of a session. Trusted-header
 * sign-in does not call this: the proxy authenticated.
 */
export async function secondStepFor(
  mfa: MfaService,
  user: UserRecord,
  request: Request,
  first: { method: AuthMethod; amr: string[] },
): Promise<SecondStepChallenge | null> {
  const methods = await mfa.methodsOf(user.id);
  if (methods.length === 0) return null;
  const { token, cookie } = await mfa.pending.begin(request, { userId: user.id, method: first.method, amr: first.amr });
  return { body: { mfa_required: true, mfa_token: token, methods }, cookie };
}
