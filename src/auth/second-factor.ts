import type { UserRecord } from "../db/repos/users.ts";
import type { AuthMethod } from "../db/repos/device-sessions.ts";

/** The 200 answer of a first step that needs a second one (no session, no session cookie). */
export interface SecondStepChallenge {
  body: { mfa_required: true; mfa_token: string; methods: Array<"totp" | "recovery_code" | "webauthn"> };
  /** The HttpOnly nonce cookie binding the token to this client. */
  cookie: string;
}

/**
 * OAuth: the provider session a callback got for a user with a second factor, sealed (encrypted
 * as `oauth_session.token` is) and held in the pending sign-in. It becomes an `oauth_session` row
 * under `id` (the cookie set with the challenge) only once the step is done, so an unfinished
 * login stores nothing and prunes none of the user's devices.
 */
export interface HeldProviderSession {
  id: string;
  provider: string;
  sealed: string;
  expiresAt: number;
}

/** The first step that succeeded, as the second one completes it. */
export interface FirstStep {
  /** How the first step was done (the device session records it). */
  method: AuthMethod;
  /** Methods used so far (`pwd`, `oauth`, `ldap`). */
  amr: string[];
  /** OAuth: the provider session got at the callback, stored and linked to the device session once issued. */
  providerSession?: HeldProviderSession;
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
