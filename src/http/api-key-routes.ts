import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import { ForbiddenError, NotFoundError } from "../auth/auth-errors.ts";
import { MESSAGES } from "../auth/messages.ts";
import { newApiKey } from "../db/repos/api-keys.ts";
import { json } from "./respond.ts";

const CREATION_NOT_ALLOWED = "API key creation is not allowed in the environment.";

/**
 * `GET|POST|DELETE /api/v1/auths/api_key`. Keys Gatehouse creates are stored as a SHA-256
 * digest (GATEHOUSE_API_KEY_STORAGE=plaintext stores them as Open WebUI does), so a stored
 * key can be shown only once, when it is created.
 */
export function apiKeyRoutes(s: Pick<Services, "config">, auth: AuthModule) {
  return new Elysia({ name: "gatehouse.api-keys", prefix: "/api/v1/auths" })
    .get("/api_key", async ({ request }) => {
      const p = await auth.current.verified(request);
      const stored = await auth.apiKeys.readable(p.user.id);
      if (!stored.exists) throw new NotFoundError(MESSAGES.API_KEY_NOT_FOUND);
      return json({ api_key: stored.plaintext, stored_as: stored.plaintext === null ? "sha256" : "plaintext" });
    })
    .post("/api_key", async ({ request }) => {
      if (!s.config.auth.enableApiKeys) throw new ForbiddenError(CREATION_NOT_ALLOWED, "ERR_API_KEYS_DISABLED");
      const p = await auth.current.verified(request);
      const key = newApiKey();
      await auth.apiKeys.put(p.user.id, key);
      auth.current.forgetApiKeys();
      await auth.userCache.invalidate(p.user.id);
      return json({ api_key: key });
    })
    .delete("/api_key", async ({ request }) => {
      const p = await auth.current.verified(request);
      const deleted = await auth.apiKeys.delete(p.user.id);
      auth.current.forgetApiKeys();
      await auth.userCache.invalidate(p.user.id);
      return json(deleted);
    });
}
