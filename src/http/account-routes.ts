import { Elysia, t } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import { BadRequestError } from "../auth/auth-errors.ts";
import { MESSAGES } from "../auth/messages.ts";
import { checkNewPassword, checkPasswordLength } from "../auth/credentials-policy.ts";
import { canonicalEmail } from "../auth/email-address.ts";
import { publicUser } from "../auth/user-response.ts";
import type { Role } from "../db/repos/users.ts";
import { json } from "./respond.ts";

/** Password and profile changes, and the admin's "add user". */
export function accountRoutes(s: Pick<Services, "config">, auth: AuthModule) {
  return new Elysia({ name: "gatehouse.account", prefix: "/api/v1/auths" })
    .post("/update/password", async ({ body, request }) => {
      const p = await auth.current.verified(request, { storeOptional: true });
      checkPasswordLength(body.password);
      const hash = await auth.users.passwordHash(p.user.id);
      if (!hash || !(await auth.passwords.verify(body.password, hash))) throw new BadRequestError(MESSAGES.INVALID_PASSWORD, "ERR_INVALID_PASSWORD");
      checkNewPassword(body.new_password);
      await auth.users.updatePassword(p.user.id, await auth.passwords.hash(body.new_password));
      // Every other session ends: older tokens (Open WebUI's included) through revoked_at just
      // below the caller's iat, newer Gatehouse sessions one by one. The caller stays signed in,
      // and API keys keep working (a password change alone does not revoke them).
      const keep = p.claims?.jti ?? null;
      if (p.claims?.iat !== undefined) await auth.revocation.revokeUser(p.user.id, p.claims.iat - 1);
      else if (p.via === "jwt") await auth.revocation.revokeUser(p.user.id);
      await auth.revoker.revokeAllExcept(p.user.id, keep);
      await auth.userCache.invalidate(p.user.id);
      return json(true);
    }, { body: t.Object({ password: t.String({ maxLength: 4096 }), new_password: t.String({ maxLength: 4096 }) }) })

    .post("/update/profile", async ({ body, request }) => {
      const p = await auth.current.verified(request);
      const updated = await auth.users.updateProfile(p.user.id, { name: body.name.trim() || p.user.name, profileImageUrl: body.profile_image_url });
      await auth.userCache.invalidate(p.user.id);
      return json(publicUser(updated ?? p.user));
    }, { body: t.Object({ name: t.String({ maxLength: 255 }), profile_image_url: t.Optional(t.String({ maxLength: 1_000_000 })) }) })

    .post("/add", async ({ body, request }) => {
      await auth.current.admin(request);
      const email = canonicalEmail(body.email);
      checkNewPassword(body.password);
      if (await auth.users.byEmail(email)) throw new BadRequestError(MESSAGES.EMAIL_TAKEN, "ERR_EMAIL_TAKEN");
      const role: Role = (body.role as Role | undefined) ?? s.config.auth.defaultUserRole;
      const user = await auth.users.insert({
        id: crypto.randomUUID(), email, name: body.name.trim() || email, role,
        passwordHash: await auth.passwords.hash(body.password), profileImageUrl: body.profile_image_url,
      });
      return json(publicUser(user));
    }, {
      body: t.Object({
        name: t.String({ maxLength: 255 }),
        email: t.String({ maxLength: 320 }),
        password: t.String({ maxLength: 4096 }),
        role: t.Optional(t.Union([t.Literal("admin"), t.Literal("user"), t.Literal("pending")])),
        profile_image_url: t.Optional(t.String({ maxLength: 1_000_000 })),
      }),
    });
}
