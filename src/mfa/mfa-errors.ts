import { ServiceError } from "../errors.ts";

/** Stable codes of {@link MfaError}. */
export type MfaErrorCode =
  | "ERR_MFA_DISABLED"
  | "ERR_MFA_TOKEN_INVALID"
  | "ERR_MFA_CODE_INVALID"
  | "ERR_MFA_NOT_ENROLLED"
  | "ERR_MFA_ALREADY_ENROLLED"
  | "ERR_MFA_ENROLMENT_REQUIRED"
  | "ERR_MFA_BAD_REQUEST"
  | "ERR_PASSKEY_INVALID"
  | "ERR_PASSKEY_NOT_FOUND"
  | "ERR_PASSKEYS_DISABLED";

const STATUS: Record<MfaErrorCode, number> = {
  ERR_MFA_DISABLED: 404,
  ERR_MFA_TOKEN_INVALID: 401,
  ERR_MFA_CODE_INVALID: 400,
  ERR_MFA_NOT_ENROLLED: 400,
  ERR_MFA_ALREADY_ENROLLED: 400,
  ERR_MFA_ENROLMENT_REQUIRED: 403,
  ERR_MFA_BAD_REQUEST: 400,
  ERR_PASSKEY_INVALID: 400,
  ERR_PASSKEY_NOT_FOUND: 404,
  ERR_PASSKEYS_DISABLED: 404,
};

const MESSAGES: Record<MfaErrorCode, string> = {
  ERR_MFA_DISABLED: "Second factors are turned off on this server.",
  ERR_MFA_TOKEN_INVALID: "The sign-in attempt is unknown, expired, already used or from another client. Please sign in again.",
  ERR_MFA_CODE_INVALID: "The code is not valid.",
  ERR_MFA_NOT_ENROLLED: "No such second factor is set up.",
  ERR_MFA_ALREADY_ENROLLED: "An authenticator app is already set up; remove it first.",
  ERR_MFA_ENROLMENT_REQUIRED: "A second factor is required: set one up at /account/security first.",
  ERR_MFA_BAD_REQUEST: "Give exactly one of the accepted fields.",
  ERR_PASSKEY_INVALID: "The passkey response could not be verified.",
  ERR_PASSKEY_NOT_FOUND: "No such passkey.",
  ERR_PASSKEYS_DISABLED: "Passkeys are not enabled on this server.",
};

/** A refused second-factor operation; the message never names a secret or code. */
export class MfaError extends ServiceError {
  constructor(code: MfaErrorCode) {
    super(code, STATUS[code], MESSAGES[code]);
  }
}
