import { Elysia } from "elysia";
import type { AuthModule } from "../auth/auth-module.ts";
import type { GroupsRepo } from "../groups/groups-repo.ts";
import { memberGroupNames } from "../groups/member-groups.ts";
import type { Principal } from "../auth/current-user.ts";
import { ServiceError } from "../errors.ts";
import { ForbiddenError, UnauthorizedError } from "../auth/auth-errors.ts";
import { MESSAGES } from "../auth/messages.ts";
import { SessionMfaLookup } from "../mfa/session-mfa.ts";

/**
 * `GET /api/v1/auths/verify` for nginx `auth_request` / Traefik `forwardAuth`: 200 with the
 * user in headers (also oauth2-proxy's `X-Auth-Request-*`, and `X-User-Groups`: the user's
 * group names, comma-separated and URL-encoded each). As oauth2-proxy and Authelia:
 * 401 for a missing, invalid or revoked credential (the proxy sends the browser to sign in),
 * 403 only for a signed-in user who may not pass (`pending`). Writes nothing.
 */
export function forwardAuthRoute(auth: AuthModule, groups?: GroupsRepo) {
  const groupNames = groups ? memberGroupNames(groups) : null;
  const mfa = new SessionMfaLookup(auth.sessions);
  return new Elysia({ name: "gatehouse.forward-auth" }).get("/api/v1/auths/verify", async ({ request }) => {
    const p = await signedIn(auth, request);
    if (p.user.role !== "user" && p.user.role !== "admin") throw new ForbiddenError(MESSAGES.ACCESS_PROHIBITED, "ERR_ROLE_PENDING");
    const names = groupNames ? await groupNames(p.user.id) : [];
    const multiFactor = await mfa.of(p);
    return new Response(null, {
      status: 200,
      headers: {
        "x-user-id": p.user.id,
        "x-user-email": p.user.email,
        "x-user-name": encodeURIComponent(p.user.name),
        "x-user-role": p.user.role,
        "x-user-groups": names.map(encodeURIComponent).join(","),
        "x-user-mfa": String(multiFactor),
        "x-auth-request-user": p.user.id,
        "x-auth-request-email": p.user.email,
        "x-auth-request-groups": names.map(encodeURIComponent).join(","),
        "cache-control": "no-store",
      },
    });
  });
}

/** The principal; every refusal of the credential itself becomes 401 (outages stay 5xx). */
async function signedIn(auth: AuthModule, request: Request): Promise<Principal> {
  try {
    return await auth.current.resolve(request, { touch: false });
  } catch (e) {
    if (!(e instanceof ServiceError) || e.status >= 500 || e.status === 401) throw e;
    throw new UnauthorizedError(e.code === "ERR_NOT_AUTHENTICATED" ? MESSAGES.NOT_AUTHENTICATED : MESSAGES.INVALID_TOKEN, e.code);
  }
}
