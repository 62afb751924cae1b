import type { Config } from "../config/config.ts";
import type { UserRecord } from "../db/repos/users.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import type { AuthModule } from "./auth-module.ts";
import { BadRequestError, ForbiddenError } from "./auth-errors.ts";
import { MESSAGES } from "./messages.ts";
import { checkNewPassword, checkPasswordLength, isValidEmail } from "./credentials-policy.ts";

/** What sign-up and sign-in need besides the auth module. */
export interface CredentialDeps {
  auth: AuthModule;
  config: Config;
  audit: AuditTrail;
}

/** True when a sign-up would be accepted now: no user yet, or `ENABLE_SIGNUP`. */
export async function signUpOpen(d: CredentialDeps): Promise<boolean> {
  return d.config.auth.enableSignup || (await d.auth.users.count()) === 0;
}

/**
 * Checks email and password the way Open WebUI does (same messages, rate limited per email
 * and IP, the same work for unknown emails) and returns the user. Upgrades a legacy hash.
 * @throws BadRequestError (`INVALID_CRED`), RateLimitedError
 */
export async function passwordSignIn(d: CredentialDeps, rawEmail: string, password: string, ip: string): Promise<UserRecord> {
  const { auth, audit } = d;
  const email = rawEmail.trim().toLowerCase();
  await auth.rateLimit.check(email, ip).catch((e: unknown) => {
    audit.record("signin", "rate_limited", { email, ip });
    throw e;
  });
  checkPasswordLength(password);
  const started = performance.now();
  const creds = await auth.users.credentialsByEmail(email);
  let ok = false;
  const verifying = performance.now();
  if (creds?.password && creds.active) {
    ok = await auth.passwords.verify(password, creds.password);
  } else {
    // Unknown email: spend the same work, so timing does not tell which emails exist.
    await auth.passwords.verifyDummy(password);
  }
  auth.failureFloor.observe(performance.now() - verifying);
  if (!ok || !creds) {
    // A legacy (bcrypt) hash verifies several times slower than the dummy: failures wait for the slowest.
    await auth.failureFloor.pad(started);
    await auth.rateLimit.fail(email, ip);
    audit.record("signin", "failure", { email, ip, reason: creds ? "password" : "unknown_email" });
    throw new BadRequestError(MESSAGES.INVALID_CRED, "ERR_INVALID_CREDENTIALS");
  }
  if (auth.passwords.needsRehash(creds.password!)) {
    await auth.users.updatePassword(creds.user.id, await auth.passwords.hash(password));
  }
  return creds.user;
}

/** A new account's fields as submitted. */
export interface SignUpInput {
  name: string;
  email: string;
  password: string;
  profileImageUrl?: string;
}

/**
 * Creates an account when sign-up is open: the first user gets `admin`, later ones
 * `DEFAULT_USER_ROLE`. Open WebUI's checks and messages.
 * @throws ForbiddenError when sign-up is closed; BadRequestError for a bad email, weak password or taken email.
 */
export async function signUp(d: CredentialDeps, input: SignUpInput): Promise<UserRecord> {
  const { auth, config } = d;
  if (!(await signUpOpen(d))) throw new ForbiddenError(MESSAGES.ACCESS_PROHIBITED, "ERR_SIGNUP_CLOSED");
  const email = input.email.trim().toLowerCase();
  if (!isValidEmail(email)) throw new BadRequestError(MESSAGES.INVALID_EMAIL_FORMAT, "ERR_EMAIL_FORMAT");
  checkNewPassword(input.password);
  if (await auth.users.byEmail(email)) throw new BadRequestError(MESSAGES.EMAIL_TAKEN, "ERR_EMAIL_TAKEN");
  const passwordHash = await auth.passwords.hash(input.password);
  try {
    return await auth.users.insert(
      { id: crypto.randomUUID(), email, name: input.name.trim() || email, role: config.auth.defaultUserRole, passwordHash, profileImageUrl: input.profileImageUrl },
      true,
    );
  } catch (e) {
    if ((e as { code?: string }).code === "23505") throw new BadRequestError(MESSAGES.EMAIL_TAKEN, "ERR_EMAIL_TAKEN");
    throw e;
  }
}
