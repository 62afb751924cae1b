import type { Services } from "../services.ts";
import { GroupsRepo } from "./groups-repo.ts";
import { GroupSync } from "./group-sync.ts";
import type { MembershipChange } from "./groups-repo.ts";
import { syncGroupsFromClaims } from "./claim-groups.ts";
import { syncGroupsFromHeader } from "./header-groups.ts";
import type { MembershipsLost } from "./access-loss.ts";

/** Group storage and the one membership sync, built once per instance. */
export interface GroupsModule {
  repo: GroupsRepo;
  sync: GroupSync;
  /** At an OAuth login: memberships follow the groups claim (when group management is on). */
  fromClaims(userId: string, claims: Readonly<Record<string, unknown>>): Promise<MembershipChange | null>;
  /** Tells interested parties (the gateway's grant cache) that a user's memberships changed. */
  membershipChanged(userId: string): Promise<void>;
  /** After memberships were removed (committed): those who left their last access group lose access. */
  membershipsLost: MembershipsLost;
  /** At a trusted-header sign-in: memberships follow the groups header (from a trusted peer only). */
  fromHeader(userId: string, request: Request, fromTrustedPeer: boolean): Promise<MembershipChange | null>;
}

/**
 * Wires the groups repository and sync on the instance's pool and audit trail;
 * `onMembershipChange` hears of every user whose memberships a sync or SCIM changed;
 * `membershipsLost` of every removal (the one hook for group loss, see access-loss.ts).
 */
export function createGroupsModule(
  s: Services,
  onMembershipChange: (userId: string) => Promise<void> = async () => {},
  membershipsLost: MembershipsLost = async () => {},
): GroupsModule {
  const repo = new GroupsRepo(s.pool);
  const membershipChanged = (userId: string) => onMembershipChange(userId).catch((e: unknown) => s.log.warn({ err: (e as Error).message }, "membership change not announced"));
  const sync = new GroupSync(repo, s.audit, membershipChanged, membershipsLost);
  return {
    repo, sync, membershipChanged, membershipsLost,
    fromClaims: (userId, claims) => syncGroupsFromClaims(sync, userId, claims, s.config.groups),
    fromHeader: (userId, request, trusted) => syncGroupsFromHeader(sync, userId, request, s.config.groups, trusted),
  };
}
