import type { Services } from "../services.ts";
import type { UsersRepo } from "../db/repos/users.ts";
import type { PasswordHasher } from "../auth/session-tokens.ts";
import type { CookiePolicy } from "../auth/cookies.ts";
import { TotpRepo } from "../db/repos/mfa-totp.ts";
import { RecoveryCodesRepo } from "../db/repos/recovery-codes.ts";
import { PasskeysRepo } from "../db/repos/passkeys.ts";
import { MfaService } from "./mfa-service.ts";
import { MfaKeys } from "./mfa-keys.ts";
import { PendingSignIns } from "./pending-sign-in.ts";
import { MfaAttemptLimiter } from "./attempt-limit.ts";
import { PasskeyService } from "./passkeys.ts";
import { WebAuthnChallenges } from "./webauthn-challenges.ts";
import { relyingParty } from "./relying-party.ts";

/** Builds the second-factor services from config (`GATEHOUSE_MFA*`, `GATEHOUSE_PASSKEYS*`); passkeys null when off. */
export function createMfaService(s: Services, d: { users: UsersRepo; passwords: PasswordHasher; cookies: CookiePolicy }): { mfa: MfaService; passkeys: PasskeyService | null } {
  const cfg = s.config.mfa;
  const passkeys = new PasskeysRepo(s.pool);
  const mfa = new MfaService({
    policy: cfg.policy,
    totp: new TotpRepo(s.pool),
    recovery: new RecoveryCodesRepo(s.pool),
    passkeys,
    keys: new MfaKeys(cfg.encryptionKey, s.secretKey, cfg.previousEncryptionKeys),
    pending: new PendingSignIns(s.store, d.cookies, cfg.tokenTtlSeconds),
    limiter: new MfaAttemptLimiter(s.store, cfg.maxAttempts, cfg.attemptWindowSeconds),
    users: d.users,
    passwords: d.passwords,
    audit: s.audit,
    issuer: s.config.server.publicUrl ? new URL(s.config.server.publicUrl).host : "Gatehouse",
  });
  const passkeyService = cfg.passkeys
    ? new PasskeyService({ repo: passkeys, challenges: new WebAuthnChallenges(s.store), rp: relyingParty(s.config), mfa, users: d.users, audit: s.audit })
    : null;
  return { mfa, passkeys: passkeyService };
}
