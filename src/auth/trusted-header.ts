import type { UserRecord } from "../db/repos/users.ts";
import type { AuthModule } from "./auth-module.ts";
import type { Config } from "../config/config.ts";
import { BadRequestError } from "./auth-errors.ts";
import { MESSAGES } from "./messages.ts";
import { canonicalEmail } from "./email-address.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import { trustedProxyHeader } from "./trusted-proxy-header.ts";
import { createExternalUser } from "./external-user.ts";

/**
 * Sign-in by a header a trusted reverse proxy sets (`WEBUI_AUTH_TRUSTED_EMAIL_HEADER`), as
 * Open WebUI does: the user is created on first sight with the default role rules. From a
 * peer that is not a trusted proxy the header counts as absent (400, as with no header).
 * Not rate limited: the proxy has already authenticated the person.
 */
export async function userFromTrustedHeader(request: Request, auth: AuthModule, config: Config, audit?: AuditTrail): Promise<UserRecord> {
  const proxies = config.server.trustedProxies;
  const raw = (trustedProxyHeader(request, config.auth.trustedEmailHeader, proxies, audit) ?? "").trim();
  const email = raw ? canonicalEmail(raw) : "";
  if (!email) throw new BadRequestError(MESSAGES.INVALID_TRUSTED_HEADER, "ERR_TRUSTED_HEADER_MISSING");
  const existing = await auth.users.byEmail(email);
  if (existing) return existing;
  const name = trustedProxyHeader(request, config.auth.trustedNameHeader, proxies, audit)?.trim() || email;
  return createExternalUser(auth, { email, name, role: config.auth.defaultUserRole });
}
