import type { StrictPool } from "../db/pool.ts";
import { UsersRepo, type UserRecord } from "../db/repos/users.ts";
import { CliError } from "./cli-error.ts";
import { canonicalEmail } from "../auth/email-address.ts";

/** The user with `email` (case-insensitive), or a CliError naming the email. */
export async function userByEmail(pool: StrictPool, email: string): Promise<UserRecord> {
  const canonical = canonicalEmail(email, email.trim().toLowerCase());
  const user = await new UsersRepo(pool).byEmail(canonical);
  if (!user) throw new CliError("ERR_CLI_USER_NOT_FOUND", `no user with email ${canonical}`, 1);
  return user;
}
