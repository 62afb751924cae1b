import { Elysia } from "elysia";
import type { AuthModule } from "../auth/auth-module.ts";
import { NotFoundError } from "../auth/auth-errors.ts";
import { json } from "./respond.ts";

/** The caller's device sessions: list, revoke one, revoke all others. */
export function sessionRoutes(auth: AuthModule) {
  return new Elysia({ name: "gatehouse.sessions", prefix: "/api/v1/auths" })
    .get("/sessions", async ({ request }) => {
      const p = await auth.current.resolve(request);
      const rows = await auth.sessions.listLive(p.user.id);
      return json(rows.map((r) => ({
        id: r.id,
        created_at: Number(r.created_at),
        last_seen_at: Number(r.last_seen_at),
        expires_at: r.expires_at === null ? null : Number(r.expires_at),
        user_agent: r.user_agent,
        ip: r.ip,
        auth_method: r.auth_method,
        amr: r.amr ? r.amr.split(",") : [],
        current: r.id === p.claims?.jti,
      })));
    })
    .delete("/sessions/:id", async ({ params, request }) => {
      // Revoking works while Redis is down (the durable record in Postgres is checked and written).
      const p = await auth.current.resolve(request, { storeOptional: true });
      const row = await auth.sessions.byId(params.id);
      // Someone else's session is "not found", not "forbidden": ids are not to be probed.
      if (!row || row.user_id !== p.user.id || row.revoked_at !== null) throw new NotFoundError();
      await auth.revoker.revokeIds([row.id]);
      return json({ status: true });
    })
    .delete("/sessions", async ({ request }) => {
      const p = await auth.current.resolve(request, { storeOptional: true });
      const revoked = await auth.revoker.revokeAllExcept(p.user.id, p.claims?.jti ?? null);
      return json({ status: true, revoked: revoked.length });
    });
}
