import { TotpRepo } from "../db/repos/mfa-totp.ts";
import { RecoveryCodesRepo } from "../db/repos/recovery-codes.ts";
import { PasskeysRepo } from "../db/repos/passkeys.ts";
import { positional, type CliCommand } from "./command.ts";
import { userByEmail } from "./user-lookup.ts";
import { requireSharedStore, revokeEverySession } from "./revoke-user-command.ts";

/**
 * `reset-mfa <email>`: removes every second factor of a user (TOTP, recovery codes, passkeys)
 * and signs them out everywhere, as `POST /api/v1/users/{id}/mfa/reset` does.
 */
export const resetMfaCommand: CliCommand = {
  name: "reset-mfa",
  usage: "reset-mfa <email>",
  summary: "remove a user's second factors and sign them out everywhere",
  async run(ctx) {
    const email = positional(ctx, 0, "email");
    requireSharedStore(ctx);
    const pool = await ctx.pool();
    const user = await userByEmail(pool, email);
    await new TotpRepo(pool).delete(user.id);
    await new RecoveryCodesRepo(pool).deleteAll(user.id);
    await new PasskeysRepo(pool).deleteAll(user.id);
    const live = await revokeEverySession(ctx, user.id);
    ctx.out(`removed the second factors of ${user.email} and revoked every session (${live} live)`);
  },
};
