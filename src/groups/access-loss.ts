import type { AuditTrail } from "../observability/audit-trail.ts";
import type { AccessGroups } from "./access-groups.ts";

/** Called after memberships were removed and committed: `userIds` left the groups named `left`. */
export type MembershipsLost = (userIds: readonly string[], left: readonly (string | null)[]) => Promise<void>;

/**
 * Group loss ends access: every user who left their last access group is deprovisioned through
 * the same path as SCIM `active: false` and an admin revocation (`endEverySession`: per-user
 * revocation announced to every instance, whose socket watchers close the user's sockets; device
 * sessions, API key and provider sessions deleted; caches dropped). Runs after the membership
 * change committed, so no database connection is held across the revocation's store work.
 */
export function endAccessOnLoss(
  access: AccessGroups,
  deprovisioner: { endEverySession(userId: string): Promise<void> },
  audit?: AuditTrail,
): MembershipsLost {
  return async (userIds, left) => {
    for (const userId of await access.lostAccess(userIds, left)) {
      await deprovisioner.endEverySession(userId);
      audit?.record("revocation", "success", { userId, reason: "access_group_lost", groups: left.filter((n) => access.grants(n)) });
    }
  };
}
