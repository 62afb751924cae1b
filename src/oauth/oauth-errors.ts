import { ServiceError } from "../errors.ts";

/**
 * A refused OAuth login. The callback answers it with a redirect to `/auth?error={code}`,
 * never a 500; `code` is stable and safe to show (no provider payloads, no tokens).
 */
export class OAuthLoginError extends Error {
  constructor(
    /** Stable machine-readable reason, e.g. `state_mismatch`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "OAuthLoginError";
  }
}

/** The provider could not be reached or answered 5xx/timeout: the session is kept. */
export class OAuthProviderUnavailableError extends ServiceError {
  constructor(provider: string) {
    super("ERR_OAUTH_PROVIDER_UNAVAILABLE", 503, `The identity provider "${provider}" is unavailable; try again later.`, 5);
  }
}

/** The provider refused the refresh token (`invalid_grant`): the session was ended. */
export class OAuthSessionEndedError extends ServiceError {
  constructor() {
    super("ERR_OAUTH_SESSION_ENDED", 401, "The OAuth session has ended; sign in again.");
  }
}

/** No such OAuth session for this user (or it cannot be read). */
export class OAuthSessionNotFoundError extends ServiceError {
  constructor() {
    super("ERR_OAUTH_SESSION_NOT_FOUND", 404, "OAuth session not found");
  }
}
