import { Elysia } from "elysia";
import type { AuthModule } from "../auth/auth-module.ts";
import type { GroupsRepo, GroupWithCount } from "../groups/groups-repo.ts";
import { json } from "./respond.ts";

/** Open WebUI's `GroupResponse`: every `group` column plus `member_count`. */
function groupResponse(g: GroupWithCount) {
  return {
    id: g.id, user_id: g.user_id ?? "", name: g.name ?? "", description: g.description ?? "",
    data: g.data, meta: g.meta, permissions: g.permissions,
    created_at: g.created_at ?? 0, updated_at: g.updated_at ?? 0, member_count: g.member_count,
  };
}

/** `GET /api/v1/groups/` at Open WebUI's path and shape: every group for an admin, the caller's own groups otherwise. */
export function groupRoutes(auth: AuthModule, groups: GroupsRepo) {
  return new Elysia({ name: "gatehouse.groups" }).get("/api/v1/groups/", async ({ request }) => {
    const p = await auth.current.verified(request);
    const list = p.user.role === "admin" ? (await groups.list()).groups : await groups.forUser(p.user.id);
    return json(list.map(groupResponse));
  });
}
