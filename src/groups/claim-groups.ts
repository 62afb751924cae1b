import type { GroupsConfig } from "../config/groups-config.ts";
import type { GroupSync } from "./group-sync.ts";
import type { MembershipChange } from "./groups-repo.ts";

/**
 * The group names in a claims object (the merged ID token + userinfo), read as Open WebUI
 * does: `path` is a key, else a dotted path into nested objects (`realm_access.groups`);
 * an array keeps its string items, a string is split on `separator`; anything else is no
 * groups.
 */
export function groupsFromClaims(claims: Readonly<Record<string, unknown>>, path: string, separator: string): string[] {
  let v: unknown = Object.hasOwn(claims, path) ? claims[path] : undefined;
  if (v === undefined) {
    v = claims;
    for (const part of path.split(".")) {
      if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, part)) return [];
      v = (v as Record<string, unknown>)[part];
    }
  }
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (typeof v === "string") return v.split(separator);
  return [];
}

/**
 * With `ENABLE_OAUTH_GROUP_MANAGEMENT`, makes the user's memberships match the groups claim
 * (created only with `ENABLE_OAUTH_GROUP_CREATION`, `OAUTH_BLOCKED_GROUPS` untouched); a
 * login without the claim leaves the user in no (unblocked) group, as in Open WebUI.
 *
 * @returns what changed, or null when group management is off.
 */
export function syncGroupsFromClaims(sync: GroupSync, userId: string, claims: Readonly<Record<string, unknown>>, cfg: GroupsConfig): Promise<MembershipChange | null> {
  if (!cfg.oauthManagement) return Promise.resolve(null);
  const names = groupsFromClaims(claims, cfg.oauthClaim, cfg.oauthSeparator);
  return sync.syncUserGroups(userId, names, { create: cfg.oauthCreation, blocked: cfg.blocked, source: "oauth" });
}
