import { Elysia } from "elysia";
import type { AuthModule } from "../auth/auth-module.ts";
import { SessionMfaLookup } from "../mfa/session-mfa.ts";

/**
 * `GET /api/v1/auths/verify` for nginx `auth_request` / Traefik `forwardAuth`: 200 with the
 * user in headers (also oauth2-proxy's `X-Auth-Request-*`), 401 otherwise. Writes nothing.
 */
export function forwardAuthRoute(auth: AuthModule) {
  const mfa = new SessionMfaLookup(auth.sessions);
  return new Elysia({ name: "gatehouse.forward-auth" }).get("/api/v1/auths/verify", async ({ request }) => {
    const p = await auth.current.verified(request, { touch: false });
    const multiFactor = await mfa.of(p);
    return new Response(null, {
      status: 200,
      headers: {
        "x-user-id": p.user.id,
        "x-user-email": p.user.email,
        "x-user-name": encodeURIComponent(p.user.name),
        "x-user-role": p.user.role,
        "x-user-mfa": String(multiFactor),
        "x-auth-request-user": p.user.id,
        "x-auth-request-email": p.user.email,
        "cache-control": "no-store",
      },
    });
  });
}
