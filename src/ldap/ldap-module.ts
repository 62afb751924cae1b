import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import { FailureFloor } from "../auth/failure-floor.ts";
import { createLdapMetrics } from "../observability/ldap-metrics.ts";
import { LdapDirectory } from "./directory.ts";
import { ldapSignIn, type LdapGroupSync, type LdapSignInResult } from "./ldap-sign-in.ts";
import type { GroupSync } from "../groups/group-sync.ts";

/** LDAP sign-in for one instance; `null` when `ENABLE_LDAP` is off. */
export interface LdapModule {
  /** `LDAP_SERVER_LABEL`, for the `/auth` form. */
  label: string;
  directory: LdapDirectory;
  signIn(user: string, password: string, ip: string): Promise<LdapSignInResult>;
}

/**
 * Builds the directory client, its metrics and failure floor, and says at boot what is
 * insecure about the configuration (no TLS, or certificates not validated). Group
 * memberships go through the instance's one `groupSync` (src/groups).
 */
export function createLdapModule(s: Services, auth: AuthModule, groupSync?: GroupSync): LdapModule | null {
  const c = s.config.ldap;
  // Declared even when LDAP is off, so dashboards and alerts see the families on every instance.
  const metrics = createLdapMetrics(s.registry);
  if (!c.enabled) return null;
  if (c.tls === "none") {
    s.log.warn({ url: c.url }, "LDAP without TLS: passwords cross the network in clear (set LDAP_USE_TLS=true or GATEHOUSE_LDAP_STARTTLS=true)");
  } else if (!c.validateCert) {
    s.log.warn({ url: c.url }, "LDAP_VALIDATE_CERT=false: any certificate is accepted, so anyone on the path can read LDAP passwords");
  }
  if (c.appDn !== null && c.appPassword === null) {
    s.log.warn("LDAP_APP_DN is set without LDAP_APP_PASSWORD: many directories take that bind as anonymous");
  }
  const directory = new LdapDirectory(c, metrics, s.log);
  const syncGroups: LdapGroupSync | undefined = c.groupManagement && groupSync
    ? async (user, names, opts) => void (await groupSync.syncUserGroups(user.id, names, { create: opts.create, source: "ldap" }))
    : undefined;
  const deps = { auth, config: s.config, audit: s.audit, directory, floor: new FailureFloor(), syncGroups };
  s.log.info({ url: c.url, tls: c.tls, groups: c.groupManagement }, "LDAP sign-in enabled");
  return {
    label: c.label,
    directory,
    signIn: (user, password, ip) => ldapSignIn(deps, user, password, ip),
  };
}
