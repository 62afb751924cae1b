import type { Services } from "../services.ts";
import { GroupsRepo } from "./groups-repo.ts";
import { GroupSync } from "./group-sync.ts";

/** Group storage and the one membership sync, built once per instance. */
export interface GroupsModule {
  repo: GroupsRepo;
  sync: GroupSync;
}

/** Wires the groups repository and sync on the instance's pool and audit trail. */
export function createGroupsModule(s: Services): GroupsModule {
  const repo = new GroupsRepo(s.pool);
  return { repo, sync: new GroupSync(repo, s.audit) };
}
