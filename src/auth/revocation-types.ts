import { ServiceError } from "../errors.ts";
import { revokesIat } from "./durable-revocations.ts";

/** The claims revocation looks at. */
export interface RevocableClaims {
  id: string;
  jti?: string;
  iat?: number;
  exp?: number;
}

/** Revocation could not be checked (store down, failure mode `closed`). */
export class RevocationUnavailableError extends ServiceError {
  constructor() {
    super("ERR_REVOCATION_UNAVAILABLE", 503, "Session check is temporarily unavailable. Please retry.", 1);
  }
}

/** Options of `RevocationService.revokeUser`. */
export interface RevokeUserOptions {
  /** Also refuse API keys created at or before `at` (sign out everywhere, admin revoke, deletion). Default false. */
  apiKeys?: boolean;
  /** Leave session tokens alone (API keys only, e.g. a demotion). Default false. */
  keysOnly?: boolean;
}

/** Options of `RevocationService.isRevoked`. */
export interface CheckOptions {
  /**
   * When the store cannot answer, accept the durable record's "not revoked" even in
   * `closed` mode: for requests that themselves revoke (sign-out, password change, admin
   * revocation), which must work while Redis is down.
   */
  storeOptional?: boolean;
}

/** True when a per-user revoke at `revokedAt` (unix seconds) covers a token with these claims. */
export function userRevokes(revokedAt: number, claims: RevocableClaims): boolean {
  return revokesIat(revokedAt, claims.iat);
}
