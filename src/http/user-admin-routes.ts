import { Elysia, t } from "elysia";
import type { AuthModule } from "../auth/auth-module.ts";
import { BadRequestError, NotFoundError } from "../auth/auth-errors.ts";
import { MESSAGES } from "../auth/messages.ts";
import { checkNewPassword } from "../auth/credentials-policy.ts";
import { publicUser } from "../auth/user-response.ts";
import type { Role } from "../db/repos/users.ts";
import { json } from "./respond.ts";

const ROLE_RANK: Record<Role, number> = { pending: 0, user: 1, admin: 2 };

/**
 * The admin's user changes that matter to sessions, at Open WebUI's paths: role and
 * profile updates (every instance drops its cached copy, so a demotion to `pending` is
 * refused at once) and deletion (every token of the user is revoked first).
 */
export function userAdminRoutes(auth: AuthModule) {
  return new Elysia({ name: "gatehouse.user-admin", prefix: "/api/v1/users" })
    .post("/:id/update", async ({ params, body, request }) => {
      const admin = await auth.current.admin(request, { storeOptional: true });
      const user = await auth.users.byId(params.id);
      if (!user) throw new NotFoundError(MESSAGES.USER_NOT_FOUND);
      if (params.id === admin.user.id && body.role !== undefined && body.role !== "admin") {
        throw new BadRequestError(MESSAGES.ACTION_PROHIBITED, "ERR_SELF_DEMOTION");
      }
      if (body.role !== undefined) await auth.users.updateRole(user.id, body.role as Role);
      // A demotion ends the user's API keys (the role check already refuses their sessions' new limits).
      if (body.role !== undefined && ROLE_RANK[body.role as Role] < ROLE_RANK[user.role]) {
        await auth.revocation.revokeUser(user.id, undefined, { keysOnly: true });
      }
      if (body.name !== undefined || body.profile_image_url !== undefined) {
        await auth.users.updateProfile(user.id, { name: body.name, profileImageUrl: body.profile_image_url });
      }
      if (body.password) {
        checkNewPassword(body.password);
        await auth.users.updatePassword(user.id, await auth.passwords.hash(body.password));
        // An admin-set password is a password change: sessions end, API keys stay.
        await auth.revoker.revokeUser(user.id, { apiKeys: false });
      }
      await auth.userCache.invalidate(user.id);
      return json(publicUser((await auth.users.byId(user.id)) ?? user));
    }, {
      body: t.Object({
        role: t.Optional(t.Union([t.Literal("admin"), t.Literal("user"), t.Literal("pending")])),
        name: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
        profile_image_url: t.Optional(t.String({ maxLength: 1_000_000 })),
        password: t.Optional(t.String({ maxLength: 4096 })),
      }),
    })
    .delete("/:id", async ({ params, request }) => {
      const admin = await auth.current.admin(request, { storeOptional: true });
      if (params.id === admin.user.id) throw new BadRequestError(MESSAGES.ACTION_PROHIBITED, "ERR_SELF_DELETE");
      const user = await auth.users.byId(params.id);
      if (!user) throw new NotFoundError(MESSAGES.USER_NOT_FOUND);
      await auth.revoker.revokeUser(user.id);
      await auth.apiKeys.delete(user.id);
      await auth.users.delete(user.id);
      auth.current.forgetApiKeys();
      await auth.userCache.invalidate(user.id);
      return json(true);
    });
}
