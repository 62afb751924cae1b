import { ServiceError } from "../errors.ts";

/** Open WebUI's one answer for every refused LDAP sign-in (it does not say which step failed). */
export const LDAP_AUTH_FAILED = "LDAP authentication failed.";

/** Why a sign-in was refused, for the audit line and metrics only (the client always sees {@link LDAP_AUTH_FAILED}). */
export type LdapRefusal = "empty_password" | "bad_user_value" | "unknown_user" | "ambiguous_user" | "user_mismatch" | "password" | "no_email" | "inactive";

/** 400 `LDAP authentication failed.`; `reason` is kept for the audit trail, never sent. */
export class LdapAuthFailedError extends ServiceError {
  constructor(readonly reason: LdapRefusal) {
    super("ERR_LDAP_AUTH_FAILED", 400, LDAP_AUTH_FAILED);
  }
}

/** 400 as Open WebUI answers when LDAP is off. */
export class LdapDisabledError extends ServiceError {
  constructor() {
    super("ERR_LDAP_DISABLED", 400, "LDAP authentication is not enabled");
  }
}

/** Why the directory could not be used. */
export type LdapOutage = "timeout" | "saturated" | "unreachable" | "tls" | "app_bind" | "error";

/** Seconds a client is asked to wait before retrying while the directory is unavailable. */
const RETRY_AFTER_SECONDS = 5;

/** 503 with `Retry-After`: the directory is down, slow, refusing TLS, or every slot is busy. */
export class LdapUnavailableError extends ServiceError {
  constructor(readonly outage: LdapOutage) {
    super("ERR_LDAP_UNAVAILABLE", 503, "The sign-in directory is unavailable right now. Please try again shortly.", RETRY_AFTER_SECONDS);
  }
}
