import { LRUCache } from "lru-cache";
import type { GroupsRepo } from "./groups-repo.ts";

/** How long a user's group names are reused before one checkout re-reads them. */
export const MEMBER_GROUPS_TTL_MS = 15_000;

/**
 * The names of the groups a user belongs to, for per-request consumers (forward auth):
 * cached per user for {@link MEMBER_GROUPS_TTL_MS} with concurrent misses sharing one
 * checkout, so a warm request touches no database. A membership change shows within
 * the TTL; deprovisioning does not wait for it (it revokes the user's tokens).
 */
export function memberGroupNames(repo: GroupsRepo, ttlMs = MEMBER_GROUPS_TTL_MS): (userId: string) => Promise<readonly string[]> {
  const cache = new LRUCache<string, readonly string[]>({
    max: 50_000,
    ttl: ttlMs,
    fetchMethod: async (userId) => (await repo.forUser(userId)).map((g) => g.name).filter((n): n is string => n !== null),
  });
  return async (userId) => (await cache.fetch(userId)) ?? [];
}
