import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
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
import { enrolmentGate } from "./enrolment-gate.ts";
import { secondStepFor } from "./second-step.ts";

/** Second factors of one instance. */
export interface MfaModule {
  mfa: MfaService;
  /** Null when passkeys are off. */
  passkeys: PasskeyService | null;
}

/**
 * Builds the second-factor services from config (`GATEHOUSE_MFA*`, `GATEHOUSE_PASSKEYS*`) and
 * plugs them into the auth module: the second sign-in step every flow asks for, and the
 * enrolment policy on resolved sessions.
 */
export function createMfaModule(s: Services, auth: AuthModule): MfaModule {
  const d = { users: auth.users, passwords: auth.passwords, cookies: auth.cookies };
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
  auth.secondFactor = {
    challenge: (user, request, first) => secondStepFor(mfa, user, request, first),
    passkeys: passkeyService !== null,
  };
  auth.current.useGate(enrolmentGate(mfa, s.config.auth.trustedEmailHeader !== null));
  return { mfa, passkeys: passkeyService };
}
