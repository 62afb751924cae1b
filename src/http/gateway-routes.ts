import { Elysia, t } from "elysia";
import type { AuthModule } from "../auth/auth-module.ts";
import { json } from "./respond.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { ANY, GROUP_GRANT_PREFIX } from "../db/repos/model-access.ts";

/** Whose cached grants a change of `userId`'s row affects: a group grant may touch anyone. */
const affected = (userId: string) => (userId.startsWith(GROUP_GRANT_PREFIX) ? ANY : userId);

/** The chat routes, by template (also their metric label). */
export const CHAT_ROUTES = ["/api/chat/completions", "/v1/chat/completions"] as const;

const grantBody = t.Object({ user_id: t.String({ minLength: 1, maxLength: 255 }), model_id: t.String({ minLength: 1, maxLength: 512 }) });

/**
 * `POST /api/chat/completions`, `POST /v1/chat/completions` (verified users: JWT or API key),
 * `GET /api/models`, `GET /v1/models`; admins manage grants at `/api/v1/gateway/model-access`
 * (`user_id` may be `*` or `group:{group id or name}`, `model_id` may be `*`); users read their own calls at `/api/v1/gateway/usage`.
 */
export function gatewayRoutes(auth: AuthModule, gateway: Gateway) {
  const app = new Elysia({ name: "gatehouse.gateway" });
  for (const route of CHAT_ROUTES) {
    // parse: "none" — the body is forwarded byte for byte, so Elysia must not consume it.
    app.post(route, async ({ request }) => gateway.chat(await auth.current.verified(request), request, route), { parse: "none" });
  }
  for (const route of ["/api/models", "/v1/models"]) {
    app.get(route, async ({ request }) => gateway.models(await auth.current.verified(request)));
  }
  return app
    .get("/api/v1/gateway/model-access", async ({ request, query }) => {
      await auth.current.admin(request);
      return json(await gateway.accessRepo.list(query.user_id));
    }, { query: t.Object({ user_id: t.Optional(t.String({ maxLength: 255 })) }) })
    .post("/api/v1/gateway/model-access", async ({ request, body }) => {
      const admin = await auth.current.admin(request);
      const granted = await gateway.accessRepo.grant(body.user_id, body.model_id, admin.user.id);
      await gateway.access.invalidate(affected(body.user_id));
      return json({ granted });
    }, { body: grantBody })
    .delete("/api/v1/gateway/model-access", async ({ request, body }) => {
      await auth.current.admin(request);
      const revoked = await gateway.accessRepo.revoke(body.user_id, body.model_id);
      await gateway.access.invalidate(affected(body.user_id));
      return json({ revoked });
    }, { body: grantBody })
    .get("/api/v1/gateway/usage", async ({ request, query }) => {
      const p = await auth.current.verified(request);
      return json(await gateway.usageRepo.recent(p.user.id, query.limit ?? 50));
    }, { query: t.Object({ limit: t.Optional(t.Numeric({ minimum: 1, maximum: 500 })) }) });
}
