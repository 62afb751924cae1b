import type { GroupsConfig } from "../config/groups-config.ts";
import type { GroupSync } from "./group-sync.ts";
import type { MembershipChange } from "./groups-repo.ts";

/**
 * `WEBUI_AUTH_TRUSTED_GROUPS_HEADER` at a trusted-header sign-in: the comma-separated names
 * become the user's memberships, with the same rules as the OAuth claim (creation by
 * `ENABLE_OAUTH_GROUP_CREATION`, `OAUTH_BLOCKED_GROUPS` untouched). Only a request whose
 * socket peer is a trusted proxy is believed (`fromTrustedPeer`, decided by the HTTP layer);
 * from anyone else, or without names in the header (as Open WebUI), memberships stay as they are.
 *
 * @returns what changed, or null when nothing was synced.
 */
export function syncGroupsFromHeader(
  sync: GroupSync,
  userId: string,
  request: Request,
  cfg: GroupsConfig,
  fromTrustedPeer: boolean,
): Promise<MembershipChange | null> {
  const header = cfg.trustedGroupsHeader;
  const value = header ? request.headers.get(header) : null;
  const names = (value ?? "").split(",").filter((n) => n.trim() !== "");
  if (names.length === 0 || !fromTrustedPeer) return Promise.resolve(null);
  return sync.syncUserGroups(userId, names, { create: cfg.oauthCreation, blocked: cfg.blocked, source: "trusted_header" });
}
