import type { UserRecord, UsersRepo } from "../db/repos/users.ts";
import type { PasswordHasher } from "./session-tokens.ts";
import type { UserRole } from "../config/config.ts";
import { encodeBase64Url } from "../crypto/base64url.ts";

/**
 * Creates the account of a user whom someone else authenticated (a trusted proxy, the
 * directory): `role` unless it is the first user (admin), and a password hash of 256 random
 * bits nobody ever sees — a well-formed row whose password cannot be used until someone sets
 * one (Open WebUI stores a plaintext random string there). Two first sign-ins at once get the
 * same account.
 */
export async function createExternalUser(
  d: { users: UsersRepo; passwords: PasswordHasher },
  user: { email: string; name: string; role: UserRole },
): Promise<UserRecord> {
  const passwordHash = await d.passwords.hash(encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))));
  try {
    return await d.users.insert({ id: crypto.randomUUID(), email: user.email, name: user.name.slice(0, 255), role: user.role, passwordHash }, true);
  } catch (e) {
    const again = await d.users.byEmail(user.email);
    if (again) return again;
    throw e;
  }
}
