/**
 * Finds or creates the Gatehouse user for a provider login, as Open WebUI does: by
 * `oauth.{provider}.sub`, then by email only with `OAUTH_MERGE_ACCOUNTS_BY_EMAIL` and (unlike
 * Open WebUI) only when the provider asserts the email verified, see `email-verified.ts`; creating
 * users only with `ENABLE_OAUTH_SIGNUP`; `OAUTH_ALLOWED_DOMAINS` and role management apply.
 */
import type { Config } from "../config/config.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { UserRecord } from "../db/repos/users.ts";
import { isValidEmail } from "../auth/credentials-policy.ts";
import { canonicalEmail } from "../auth/email-address.ts";
import { OAuthLoginError } from "./oauth-errors.ts";
import { claimAt, mapRole } from "./role-mapping.ts";
import { emailVerified } from "./email-verified.ts";
import type { ProviderLogin } from "./provider.ts";

/** See the module comment. */
export class OAuthUserResolver {
  constructor(
    private readonly config: Config,
    private readonly auth: AuthModule,
  ) {}

  async resolve(provider: string, login: ProviderLogin): Promise<UserRecord> {
    const o = this.config.oauth;
    const emailClaim = claimAt(login.claims, o.emailClaim);
    const email = typeof emailClaim === "string" ? canonicalEmail(emailClaim, "") : "";
    if (!isValidEmail(email)) throw new OAuthLoginError("email_missing", "the provider sent no usable email");
    const domain = email.slice(email.lastIndexOf("@") + 1);
    if (o.allowedDomains.length > 0 && !o.allowedDomains.some((d) => d.toLowerCase() === domain)) {
      throw new OAuthLoginError("domain_not_allowed", "email domain not allowed");
    }
    const role = o.roleManagement ? mapRole(login.claims, o) : null;

    let user = await this.auth.users.byOAuthSub(provider, login.sub);
    if (!user) {
      const byEmail = await this.auth.users.byEmail(email);
      if (byEmail) {
        if (!o.mergeAccountsByEmail) throw new OAuthLoginError("email_taken", "an account with this email exists");
        if (!emailVerified(provider, login.claims) && !o.mergeUnverifiedEmailProviders.includes(provider)) {
          throw new OAuthLoginError("email_not_verified", "the provider does not assert this email verified: not linked to the existing account");
        }
        user = await this.auth.users.setOAuthSub(byEmail.id, provider, login.sub);
      }
    }
    if (!user) {
      if (!o.enableSignup) throw new OAuthLoginError("signup_disabled", "sign-up through OAuth is disabled");
      const name = claimAt(login.claims, o.usernameClaim);
      const picture = claimAt(login.claims, o.pictureClaim);
      user = await this.auth.users.insert({
        id: crypto.randomUUID(),
        email,
        name: typeof name === "string" && name.trim() !== "" ? name.trim().slice(0, 255) : email,
        role: role ?? this.config.auth.defaultUserRole,
        // As Open WebUI: an unguessable password nobody knows, so the auth row is well-formed.
        passwordHash: await this.auth.passwords.hash(crypto.randomUUID()),
        profileImageUrl: typeof picture === "string" && /^https:\/\//.test(picture) ? picture.slice(0, 2048) : undefined,
        oauth: { [provider]: { sub: login.sub } },
      }, role === null);
    } else if (role !== null && user.role !== role) {
      user = (await this.auth.users.updateRole(user.id, role)) ?? user;
      await this.auth.userCache.invalidate(user.id);
    }
    if (!user) throw new OAuthLoginError("user_not_found", "user vanished during login");
    return user;
  }
}
