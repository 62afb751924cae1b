import type { UserRecord } from "../db/repos/users.ts";
import type { AuthMethod } from "../db/repos/device-sessions.ts";

/** The 200 answer of a first step that needs a second one (no session, no session cookie). */
export interface SecondStepChallenge {
  body: { mfa_required: true; mfa_token: string; methods: Array<"totp" | "recovery_code" | "webauthn"> };
  /** The HttpOnly nonce cookie binding the token to this client. */
  cookie: string;
}

/** The first step that succeeded, as the second one completes it. */
export interface FirstStep {
  /** How the first step was done (the device session records it). */
  method: AuthMethod;
  /** Methods used so far (`pwd`, `oauth`, `ldap`). */
  amr: string[];
  /** OAuth: the provider session stored at the callback, linked to the device session once issued. */
  oauthSessionId?: string;
}

/**
 * What sign-in flows ask of the second-factor module (src/mfa implements it and plugs it into
 * the auth module, so auth never imports mfa): after a successful first step, null means
 * "issue the session as before", a challenge means "answer it instead of a session".
 */
export interface SecondFactorPort {
  challenge(user: UserRecord, request: Request, first: FirstStep): Promise<SecondStepChallenge | null>;
  /** Whether passkeys are on (the sign-in page offers passkey sign-in). */
  readonly passkeys: boolean;
}
