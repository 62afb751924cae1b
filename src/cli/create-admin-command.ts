import { UsersRepo } from "../db/repos/users.ts";
import { hashPassword } from "../crypto/password.ts";
import { checkNewPassword } from "../auth/credentials-policy.ts";
import { canonicalEmail } from "../auth/email-address.ts";
import { flag, type CliCommand } from "./command.ts";
import { CliError, usageError } from "./cli-error.ts";
import { readSecretInput } from "./secret-input.ts";

/**
 * `create-admin --email E [--name N] [--password P]`: an admin account. The password comes
 * from `--password` (with a warning), `GATEHOUSE_ADMIN_PASSWORD` or standard input.
 */
export const createAdminCommand: CliCommand = {
  name: "create-admin",
  usage: "create-admin --email <email> [--name <name>] [--password <p>]   (else GATEHOUSE_ADMIN_PASSWORD, else stdin)",
  summary: "create an admin account",
  async run(ctx) {
    const email = canonicalEmail(flag(ctx, "email", true), "");
    if (!email) throw usageError(`--email: not a valid email address (or one that could pass for another)`);
    const password = await readSecretInput(ctx, "password", "GATEHOUSE_ADMIN_PASSWORD");
    try {
      checkNewPassword(password);
    } catch (e) {
      throw new CliError("ERR_CLI_WEAK_PASSWORD", (e as Error).message, 2);
    }
    const users = new UsersRepo(await ctx.pool());
    if (await users.byEmail(email)) throw new CliError("ERR_CLI_EMAIL_TAKEN", `an account with ${email} already exists`, 1);
    const user = await users.insert({ id: crypto.randomUUID(), email, name: flag(ctx, "name")?.trim() || email, role: "admin", passwordHash: await hashPassword(password) });
    ctx.out(`created admin ${user.email} (id ${user.id})`);
  },
};
