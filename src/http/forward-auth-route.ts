import { Elysia } from "elysia";
import type { AuthModule } from "../auth/auth-module.ts";
import type { GroupsRepo } from "../groups/groups-repo.ts";
import { memberGroupNames } from "../groups/member-groups.ts";

/**
 * `GET /api/v1/auths/verify` for nginx `auth_request` / Traefik `forwardAuth`: 200 with the
 * user in headers (also oauth2-proxy's `X-Auth-Request-*`, and `X-User-Groups`: the user's
 * group names, comma-separated and URL-encoded each), 401 otherwise. Writes nothing.
 */
export function forwardAuthRoute(auth: AuthModule, groups?: GroupsRepo) {
  const groupNames = groups ? memberGroupNames(groups) : null;
  return new Elysia({ name: "gatehouse.forward-auth" }).get("/api/v1/auths/verify", async ({ request }) => {
    const p = await auth.current.verified(request, { touch: false });
    const names = groupNames ? await groupNames(p.user.id) : [];
    return new Response(null, {
      status: 200,
      headers: {
        "x-user-id": p.user.id,
        "x-user-email": p.user.email,
        "x-user-name": encodeURIComponent(p.user.name),
        "x-user-role": p.user.role,
        "x-user-groups": names.map(encodeURIComponent).join(","),
        "x-auth-request-user": p.user.id,
        "x-auth-request-email": p.user.email,
        "x-auth-request-groups": names.map(encodeURIComponent).join(","),
        "cache-control": "no-store",
      },
    });
  });
}
