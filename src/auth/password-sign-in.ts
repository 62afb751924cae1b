import type { Config } from "../config/config.ts";
import { NotFirstUserError, type UserRecord, type UsersRepo } from "../db/repos/users.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import type { AuthModule } from "./auth-module.ts";
import { BadRequestError, ForbiddenError, RateLimitedError } from "./auth-errors.ts";
import { MESSAGES } from "./messages.ts";
import { checkNewPassword, checkPasswordLength } from "./credentials-policy.ts";
import { canonicalEmail } from "./email-address.ts";

/** What sign-up and sign-in need besides the auth module. */
export interface CredentialDeps {
  auth: AuthModule;
  config: Config;
  audit: AuditTrail;
}

type Credentials = NonNullable<Awaited<ReturnType<UsersRepo["credentialsByEmail"]>>>;

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
  // An address canonicalEmail refuses is looked up as typed (lower-cased), as Open WebUI does: it answers
  // INVALID_CRED like any unknown email, and an account stored before canonicalisation stays reachable.
  const email = canonicalEmail(rawEmail, rawEmail.trim().toLowerCase());
  checkPasswordLength(password);
  const started = performance.now();
  const seen: { creds: Credentials | null } = { creds: null };
  const ok = await auth.rateLimit
    .attempt(email, ip, async () => {
      const c = (seen.creds = await auth.users.credentialsByEmail(email));
      // Unknown email: spend the same work, so timing does not tell which emails exist.
      const startsNow = () => auth.passwords.startsNow();
      if (!c?.password || !c.active) return auth.failureFloor.measure(() => auth.passwords.verifyDummy(password), startsNow).then(() => false);
      return auth.failureFloor.measure(() => auth.passwords.verify(password, c.password!), startsNow);
    })
    .catch((e: unknown) => {
      if (e instanceof RateLimitedError) audit.record("signin", "rate_limited", { email, ip });
      throw e;
    });
  const found = seen.creds;
  if (!ok || !found) {
    // A legacy (bcrypt) hash verifies several times slower than the dummy: failures wait for the slowest.
    await auth.failureFloor.pad(started);
    audit.record("signin", "failure", { email, ip, reason: found ? "password" : "unknown_email" });
    throw new BadRequestError(MESSAGES.INVALID_CRED, "ERR_INVALID_CREDENTIALS");
  }
  if (auth.passwords.needsRehash(found.password!)) {
    await auth.users.updatePassword(found.user.id, await auth.passwords.hash(password));
  }
  return found.user;
}

function signUpClosed(): ForbiddenError {
  return new ForbiddenError(MESSAGES.ACCESS_PROHIBITED, "ERR_SIGNUP_CLOSED");
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
  if (!(await signUpOpen(d))) throw signUpClosed();
  const email = canonicalEmail(input.email);
  checkNewPassword(input.password);
  if (await auth.users.byEmail(email)) throw new BadRequestError(MESSAGES.EMAIL_TAKEN, "ERR_EMAIL_TAKEN");
  const passwordHash = await auth.passwords.hash(input.password);
  try {
    return await auth.users.insert(
      { id: crypto.randomUUID(), email, name: input.name.trim() || email, role: config.auth.defaultUserRole, passwordHash, profileImageUrl: input.profileImageUrl },
      true,
      // Closed sign-up: "is this the first user?" is decided under the same lock as the role.
      !config.auth.enableSignup,
    );
  } catch (e) {
    if (e instanceof NotFirstUserError) throw signUpClosed();
    if ((e as { code?: string }).code === "23505") throw new BadRequestError(MESSAGES.EMAIL_TAKEN, "ERR_EMAIL_TAKEN");
    throw e;
  }
}
