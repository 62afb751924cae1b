import type { Config } from "../config/config.ts";
import type { UserRecord } from "../db/repos/users.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import { isValidEmail } from "../auth/credentials-policy.ts";
import { canonicalEmail } from "../auth/email-address.ts";
import { createExternalUser } from "../auth/external-user.ts";
import type { FailureFloor } from "../auth/failure-floor.ts";
import { RateLimitedError } from "../auth/auth-errors.ts";
import type { DirectoryUser, LdapDirectory } from "./directory.ts";
import { LdapAuthFailedError, LdapDisabledError, LdapUnavailableError, type LdapRefusal } from "./ldap-errors.ts";

/** Longest user value sent to the directory (sAMAccountName is 20, a UPN rarely over 100). */
const MAX_USER_LENGTH = 256;

/** Makes the user's group memberships match the names (src/groups' shared sync). */
export type LdapGroupSync = (user: UserRecord, groupNames: readonly string[], opts: { create: boolean }) => Promise<void>;

/** What an LDAP sign-in needs. */
export interface LdapSignInDeps {
  auth: AuthModule;
  config: Config;
  audit: AuditTrail;
  directory: LdapDirectory;
  /** Pads failed LDAP sign-ins to the slowest recent directory exchange that reached the user bind. */
  floor: FailureFloor;
  /** Applied when `ENABLE_LDAP_GROUP_MANAGEMENT` is on. */
  syncGroups?: LdapGroupSync;
}

/** A signed-in LDAP user and the group names the directory lists for them. */
export interface LdapSignInResult {
  user: UserRecord;
  /** Group names from the groups attribute (empty unless group management is on). */
  groups: string[];
}

/** Refuses values no directory account has: empty, over-long, or with control characters (NUL included). */
function userValue(raw: string): string | null {
  const user = raw.trim();
  // eslint-disable-next-line no-control-regex
  if (user === "" || user.length > MAX_USER_LENGTH || /[\u0000-\u001f\u007f]/.test(user)) return null;
  return user;
}

/**
 * Open WebUI's LDAP sign-in (`POST /api/v1/auths/ldap`), hardened: the user value is checked
 * and escaped, an empty password never reaches a bind, attempts are rate limited per user
 * value and per IP like password sign-ins, and every refusal takes as long as a wrong
 * password (unknown users skip the user bind, so they wait for the floor). The directory is
 * asked with no database connection held; then the user is found by email or created (first
 * user admin, then `DEFAULT_USER_ROLE`) with an unusable password.
 * @throws LdapDisabledError, LdapAuthFailedError (400), RateLimitedError (429), LdapUnavailableError (503)
 */
export async function ldapSignIn(d: LdapSignInDeps, rawUser: string, password: string, ip: string): Promise<LdapSignInResult> {
  const { auth, audit, config } = d;
  if (!config.ldap.enabled) throw new LdapDisabledError();
  const user = userValue(rawUser);
  const key = `ldap:${(user ?? rawUser.slice(0, MAX_USER_LENGTH)).toLowerCase()}`;
  const started = performance.now();
  const outcome: { found?: DirectoryUser; refusal?: LdapRefusal } = {};
  /** The credential check: true when the directory accepted the password, false for a refusal (which counts). */
  const check = async (): Promise<boolean> => {
    if (user === null) outcome.refusal = "bad_user_value";
    else if (password === "") outcome.refusal = "empty_password";
    if (outcome.refusal) return false;
    try {
      outcome.found = await d.directory.authenticate(user!, password);
      d.floor.observe(performance.now() - started);
      return true;
    } catch (e) {
      if (!(e instanceof LdapAuthFailedError)) throw e;
      // Only an exchange that reached the user bind is as long as a wrong password's.
      if (e.reason === "password") d.floor.observe(performance.now() - started);
      outcome.refusal = e.reason;
      return false;
    }
  };
  const refuse = async (reason: LdapRefusal): Promise<never> => {
    await d.floor.pad(started);
    audit.record("signin", "failure", { method: "ldap", ip, reason });
    throw new LdapAuthFailedError(reason);
  };
  // Consumed before the directory is asked, given back on success: a burst cannot slip past the limit.
  const ok = await auth.rateLimit.attempt(key, ip, check).catch((e: unknown) => {
    if (e instanceof RateLimitedError) audit.record("signin", "rate_limited", { method: "ldap", ip });
    if (e instanceof LdapUnavailableError) audit.record("signin", "failure", { method: "ldap", ip, reason: `directory_${e.outage}` });
    throw e;
  });
  if (!ok || !outcome.found) return refuse(outcome.refusal ?? "password");
  const found = outcome.found;

  const email = found.mails.map((m) => canonicalEmail(m, "")).find(isValidEmail);
  if (email === undefined) return refuse("no_email");
  const account = await findOrCreate(d, email, found.commonName?.trim() || found.username);
  if (account === null) return refuse("inactive");
  // As Open WebUI, admins' groups are left alone. Unlike Open WebUI, an empty list is synced too:
  // the directory is authoritative, so losing the last group in LDAP loses it here.
  if (config.ldap.groupManagement && d.syncGroups && account.role !== "admin") {
    await d.syncGroups(account, found.groups, { create: config.ldap.groupCreation });
  }
  return { user: account, groups: found.groups };
}

/** The user with this email, or a new one; null when the account exists but is deactivated. */
async function findOrCreate(d: LdapSignInDeps, email: string, name: string): Promise<UserRecord | null> {
  const { auth, config } = d;
  const existing = await auth.users.credentialsByEmail(email);
  if (existing) return existing.active ? existing.user : null;
  return createExternalUser(auth, { email, name, role: config.auth.defaultUserRole });
}
