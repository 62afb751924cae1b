import { DeviceSessionsRepo } from "../db/repos/device-sessions.ts";
import { RevocationsRepo } from "../db/repos/revocations.ts";
import { RevocationService } from "../auth/revocation.ts";
import { SessionRevoker } from "../auth/session-revoker.ts";
import { AuditTrail } from "../observability/audit-trail.ts";
import { createRegistry } from "../observability/registry.ts";
import { positional, type CliCommand } from "./command.ts";
import type { CliContext } from "./cli-context.ts";
import { CliError } from "./cli-error.ts";
import { userByEmail } from "./user-lookup.ts";

/**
 * `revoke-user <email>`: signs the user out everywhere, exactly as "sign out everywhere"
 * does — the per-user `revoked_at` key (Open WebUI's tokens included) announced to every
 * instance, and every device session marked. Needs the shared store the servers use.
 */
export const revokeUserCommand: CliCommand = {
  name: "revoke-user",
  usage: "revoke-user <email>",
  summary: "sign a user out on every device and instance",
  async run(ctx) {
    const email = positional(ctx, 0, "email");
    requireSharedStore(ctx);
    const user = await userByEmail(await ctx.pool(), email);
    const live = await revokeEverySession(ctx, user.id);
    ctx.out(`revoked every session of ${user.email} (${live} live device ${live === 1 ? "session" : "sessions"}, and any token issued until now)`);
  },
};

/** Refuses to run without the shared store: revocations written elsewhere would not reach the servers. */
export function requireSharedStore(ctx: CliContext): void {
  if (ctx.config.redis.url === null && ctx.config.redis.sentinelHosts.length === 0) {
    throw new CliError(
      "ERR_CLI_NO_SHARED_STORE",
      "REDIS_URL is not set: the server keeps revocations in its own memory, which this command cannot reach. Set REDIS_URL as the server has it, or use POST /api/v1/auths/signout/everywhere (the user) or DELETE /api/v1/users/{id} (an admin).",
      2,
    );
  }
}

/** Signs a user out everywhere (as "sign out everywhere" does); returns how many device sessions were live. */
export async function revokeEverySession(ctx: CliContext, userId: string): Promise<number> {
  const pool = await ctx.pool();
  const revocation = new RevocationService(ctx.store(), null, "closed", ctx.log, false, undefined, new RevocationsRepo(pool));
  const sessions = new DeviceSessionsRepo(pool);
  const live = await sessions.listLive(userId);
  await new SessionRevoker(sessions, revocation, new AuditTrail(ctx.log, createRegistry({ defaultMetrics: false }))).revokeUser(userId);
  return live.length;
}
