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

/** Builds the second-factor service from config (`GATEHOUSE_MFA*`) on the pool and the store. */
export function createMfaService(s: Services, d: { users: UsersRepo; passwords: PasswordHasher; cookies: CookiePolicy }): MfaService {
  const cfg = s.config.mfa;
  return new MfaService({
    policy: cfg.policy,
    totp: new TotpRepo(s.pool),
    recovery: new RecoveryCodesRepo(s.pool),
    passkeys: new PasskeysRepo(s.pool),
    keys: new MfaKeys(cfg.encryptionKey, s.secretKey),
    pending: new PendingSignIns(s.store, d.cookies, cfg.tokenTtlSeconds),
    limiter: new MfaAttemptLimiter(s.store, cfg.maxAttempts, cfg.attemptWindowSeconds),
    users: d.users,
    passwords: d.passwords,
    audit: s.audit,
    issuer: s.config.server.publicUrl ? new URL(s.config.server.publicUrl).host : "Gatehouse",
  });
}
