import type { AuditTrail } from "../observability/audit-trail.ts";
import type { GroupMatcher } from "../config/group-patterns.ts";
import { MAX_GROUP_NAME_LENGTH, NO_BLOCKED_GROUPS } from "../config/group-patterns.ts";
import type { GroupsRepo, MembershipChange } from "./groups-repo.ts";
import type { MembershipsLost } from "./access-loss.ts";

/** Where a sync's group names came from (audit label). */
export type GroupSource = "oauth" | "trusted_header" | "ldap" | "scim";

/** How a sync treats the names it is given. */
export interface SyncOptions {
  /** Create groups that do not exist yet (ENABLE_OAUTH_GROUP_CREATION, ENABLE_LDAP_GROUP_CREATION). */
  create: boolean;
  /** Groups the sync never touches: not joined, not left, not created. */
  blocked?: GroupMatcher;
  source: GroupSource;
  /** The creator recorded on created groups (Open WebUI: an admin); default the user. */
  creatorId?: string;
}

/** Most names one sync accepts; a claim with more is cut (and the cut is logged). */
export const MAX_GROUPS_PER_SYNC = 500;

/**
 * The one membership sync shared by OAuth, the trusted groups header, LDAP and SCIM: the
 * user ends up in exactly the named groups (minus blocked ones), in one transaction. One
 * audit line per change; none when nothing changed.
 */
export class GroupSync {
  constructor(
    private readonly repo: GroupsRepo,
    private readonly audit?: AuditTrail,
    private readonly changed: (userId: string) => Promise<void> = async () => {},
    /** Hears of groups left, after the transaction committed (group loss ends access). */
    private readonly lost: MembershipsLost = async () => {},
  ) {}

  async syncUserGroups(userId: string, names: readonly string[], opts: SyncOptions): Promise<MembershipChange> {
    const clean = normaliseGroupNames(names);
    const isBlocked = opts.blocked ?? NO_BLOCKED_GROUPS;
    const change = await this.repo.syncMemberships({
      userId,
      names: clean,
      create: opts.create,
      isBlocked,
      newGroup: (name) => ({
        creatorId: opts.creatorId ?? userId,
        description: `Group '${name}' created automatically via ${SOURCE_LABEL[opts.source]}.`,
        data: { config: { share: true } },
      }),
    });
    for (const name of change.created) this.audit?.record("group_change", "success", { action: "create", group: name, source: opts.source, userId });
    for (const name of change.added) this.audit?.record("group_change", "success", { action: "add_member", group: name, source: opts.source, userId });
    for (const name of change.removed) this.audit?.record("group_change", "success", { action: "remove_member", group: name, source: opts.source, userId });
    if (change.added.length > 0 || change.removed.length > 0) await this.changed(userId);
    if (change.removed.length > 0) await this.lost([userId], change.removed);
    return change;
  }
}

const SOURCE_LABEL: Record<GroupSource, string> = { oauth: "OAuth", trusted_header: "trusted header", ldap: "LDAP", scim: "SCIM" };

/** Trims, drops empty and over-long names, removes duplicates, keeps the first {@link MAX_GROUPS_PER_SYNC}. */
export function normaliseGroupNames(names: readonly unknown[]): string[] {
  const out = new Set<string>();
  for (const n of names) {
    if (typeof n !== "string") continue;
    const t = n.trim();
    if (t && t.length <= MAX_GROUP_NAME_LENGTH) out.add(t);
    if (out.size >= MAX_GROUPS_PER_SYNC) break;
  }
  return [...out];
}
