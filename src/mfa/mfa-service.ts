import QRCode from "qrcode";
import type { UserRecord } from "../db/repos/users.ts";
import type { UsersRepo } from "../db/repos/users.ts";
import type { TotpRepo } from "../db/repos/mfa-totp.ts";
import type { RecoveryCodesRepo } from "../db/repos/recovery-codes.ts";
import type { PasskeysRepo } from "../db/repos/passkeys.ts";
import type { MfaPolicy } from "../config/mfa-config.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import type { PasswordHasher } from "../auth/session-tokens.ts";
import { BoundedMap } from "../cache/bounded-map.ts";
import { MfaError } from "./mfa-errors.ts";
import { matchingStep, newTotpSecret, totpUri } from "./totp.ts";
import { newRecoveryCodes, normaliseRecoveryCode } from "./recovery-codes.ts";
import type { MfaKeys } from "./mfa-keys.ts";
import type { MfaAttemptLimiter } from "./attempt-limit.ts";
import type { PendingSignIn, PendingSignIns } from "./pending-sign-in.ts";

/** Second-step methods a client can be offered. */
export type MfaMethod = "totp" | "recovery_code" | "webauthn";

/** What `/api/v1/auths/mfa/totp/enroll` answers (the factor is not active yet). */
export interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

/** The caller's factors, without secrets. */
export interface FactorSummary {
  policy: MfaPolicy;
  required: boolean;
  totp: { enabled: boolean; pending: boolean; created_at: number | null };
  recovery_codes: { remaining: number };
  passkeys: number;
  methods: MfaMethod[];
}

/** What {@link MfaService} is built from. */
export interface MfaServiceDeps {
  policy: MfaPolicy;
  totp: TotpRepo;
  recovery: RecoveryCodesRepo;
  passkeys: PasskeysRepo;
  keys: MfaKeys;
  pending: PendingSignIns;
  limiter: MfaAttemptLimiter;
  users: UsersRepo;
  passwords: PasswordHasher;
  audit: AuditTrail;
  /** Issuer name shown in authenticator apps. */
  issuer: string;
}

/** One second-step proof as submitted. */
export type SecondFactorProof = { code: string } | { recovery_code: string };

/**
 * TOTP, recovery codes and the second step of sign-in. Every code check takes a per-user
 * attempt first; a TOTP code is accepted once (its time step is recorded atomically in
 * Postgres); a recovery code once (consumed atomically).
 */
export class MfaService {
  /** userId → has an active factor, so the enrolment gate costs no query per request. */
  readonly #hasFactor = new BoundedMap<string, boolean>(10_000, 10_000);

  constructor(private readonly d: MfaServiceDeps) {}

  get policy(): MfaPolicy {
    return this.d.policy;
  }

  get pending(): PendingSignIns {
    return this.d.pending;
  }

  /** True when the policy demands a second factor of this user. */
  requiredFor(user: UserRecord): boolean {
    return this.d.policy === "required" || (this.d.policy === "required_for_admins" && user.role === "admin");
  }

  /** The second-step methods the user can use now; empty = no second step. */
  async methodsOf(userId: string): Promise<MfaMethod[]> {
    if (this.d.policy === "off") return [];
    const [row, passkeys] = await Promise.all([this.d.totp.byUser(userId), this.d.passkeys.count(userId)]);
    const methods: MfaMethod[] = [];
    if (row?.confirmed_at != null) methods.push("totp");
    if (passkeys > 0) methods.push("webauthn");
    if (methods.length > 0 && (await this.d.recovery.remaining(userId)) > 0) methods.push("recovery_code");
    // "Has a factor" is kept long (the enrolment gate then costs nothing on the warm path);
    // "has none" briefly, so an enrolment on another instance lifts the limit here within seconds.
    this.#hasFactor.set(userId, methods.length > 0, methods.length > 0 ? 600_000 : 10_000);
    return methods;
  }

  /** Whether the user has an active factor (cached for a few seconds per instance). */
  async hasFactor(userId: string): Promise<boolean> {
    const cached = this.#hasFactor.get(userId);
    if (cached !== undefined) return cached;
    return (await this.methodsOf(userId)).length > 0;
  }

  /** The cached answer of {@link hasFactor}, or undefined when it must be looked up. */
  peekHasFactor(userId: string): boolean | undefined {
    return this.#hasFactor.get(userId);
  }

  /** Forgets the cached factor state of a user on this instance. */
  forget(userId: string): void {
    this.#hasFactor.delete(userId);
  }

  #enabled(): void {
    if (this.d.policy === "off") throw new MfaError("ERR_MFA_DISABLED");
  }

  /** Starts TOTP enrolment: a new secret, stored encrypted and inactive until confirmed. */
  async enrolTotp(user: UserRecord): Promise<TotpEnrolment> {
    this.#enabled();
    const secret = newTotpSecret();
    if (!(await this.d.totp.putPending(user.id, await this.d.keys.seal(secret)))) throw new MfaError("ERR_MFA_ALREADY_ENROLLED");
    const uri = totpUri(secret, user.email, this.d.issuer);
    const qr = await QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
    this.d.audit.record("mfa", "success", { userId: user.id, action: "totp_enrol_started" });
    return { secret, otpauth_uri: uri, qr_svg: qr };
  }

  /** Activates the pending TOTP factor with a first code; returns fresh recovery codes. */
  async confirmTotp(user: UserRecord, code: string): Promise<string[]> {
    this.#enabled();
    const row = await this.d.totp.byUser(user.id);
    if (!row || row.confirmed_at !== null) throw new MfaError("ERR_MFA_NOT_ENROLLED");
    await this.#checkTotp(user.id, code, row.secret_enc);
    if (!(await this.d.totp.confirm(user.id))) throw new MfaError("ERR_MFA_NOT_ENROLLED");
    // Confirming TOTP always shows a fresh set, also next to a passkey (the enrolment page promises codes).
    return (await this.factorAdded(user.id, false, "totp_enabled"))!;
  }

  /** Removes TOTP after a current code or the password. */
  async disableTotp(user: UserRecord, proof: { code?: string; password?: string }): Promise<void> {
    this.#enabled();
    const row = await this.d.totp.byUser(user.id);
    if (!row) throw new MfaError("ERR_MFA_NOT_ENROLLED");
    if ((proof.code === undefined) === (proof.password === undefined)) throw new MfaError("ERR_MFA_BAD_REQUEST");
    if (proof.code !== undefined) {
      await this.#checkTotp(user.id, proof.code, row.secret_enc);
    } else {
      await this.d.limiter.take(user.id);
      const creds = await this.d.users.credentialsByEmail(user.email);
      if (!creds?.password || !(await this.d.passwords.verify(proof.password!, creds.password))) {
        this.d.audit.record("mfa", "failure", { userId: user.id, action: "totp_disable", reason: "password" });
        throw new MfaError("ERR_MFA_CODE_INVALID");
      }
      await this.d.limiter.clear(user.id);
    }
    await this.d.totp.delete(user.id);
    await this.factorRemoved(user.id, "totp_disabled");
  }

  /** After a factor was removed: recovery codes go with the last factor. Audited as `action`. */
  async factorRemoved(userId: string, action: string): Promise<void> {
    if ((await this.methodsOf(userId)).length === 0) await this.d.recovery.deleteAll(userId);
    this.forget(userId);
    this.d.audit.record("mfa", "success", { userId, action });
  }

  /** After a factor was added: the first factor comes with recovery codes (returned, shown once); null otherwise. */
  async factorAdded(userId: string, hadFactor: boolean, action: string): Promise<string[] | null> {
    this.forget(userId);
    this.d.audit.record("mfa", "success", { userId, action });
    return hadFactor ? null : this.#newRecoveryCodes(userId);
  }

  /** New recovery codes (the old ones stop working); needs an active factor. */
  async regenerateRecoveryCodes(user: UserRecord): Promise<string[]> {
    this.#enabled();
    const methods = await this.methodsOf(user.id);
    if (!methods.includes("totp") && !methods.includes("webauthn")) throw new MfaError("ERR_MFA_NOT_ENROLLED");
    const codes = await this.#newRecoveryCodes(user.id);
    this.d.audit.record("mfa", "success", { userId: user.id, action: "recovery_codes_regenerated" });
    return codes;
  }

  /** The caller's factors (no secrets). */
  async factors(user: UserRecord): Promise<FactorSummary> {
    const [row, remaining, passkeys] = await Promise.all([this.d.totp.byUser(user.id), this.d.recovery.remaining(user.id), this.d.passkeys.count(user.id)]);
    return {
      policy: this.d.policy,
      required: this.requiredFor(user),
      totp: { enabled: row?.confirmed_at != null, pending: row !== null && row.confirmed_at === null, created_at: row ? Number(row.created_at) : null },
      recovery_codes: { remaining },
      passkeys,
      methods: await this.methodsOf(user.id),
    };
  }

  /**
   * Checks a TOTP code or recovery code for the pending sign-in of `token`, then consumes the
   * token (one winner). Returns the pending sign-in and the method to add to `amr`.
   * @throws MfaError, RateLimitedError
   */
  async verify(token: string, request: Request, proof: SecondFactorProof): Promise<{ pending: PendingSignIn; amr: string }> {
    this.#enabled();
    const pending = await this.d.pending.peek(token, request);
    let amr: string;
    if ("code" in proof) {
      const row = await this.d.totp.byUser(pending.userId);
      if (row?.confirmed_at == null) throw new MfaError("ERR_MFA_NOT_ENROLLED");
      await this.#checkTotp(pending.userId, proof.code, row.secret_enc);
      amr = "otp";
    } else {
      await this.useRecoveryCode(pending.userId, proof.recovery_code);
      amr = "otp";
    }
    await this.finish(token, pending);
    return { pending, amr };
  }

  /** Consumes the pending sign-in after its second factor was proven. @throws MfaError when another request won it. */
  async finish(token: string, pending: PendingSignIn): Promise<void> {
    if (!(await this.d.pending.consume(token))) throw new MfaError("ERR_MFA_TOKEN_INVALID");
    await this.d.limiter.clear(pending.userId);
  }

  /** Uses one recovery code (atomically single use), audited. */
  async useRecoveryCode(userId: string, input: string): Promise<void> {
    await this.d.limiter.take(userId);
    const normalised = normaliseRecoveryCode(input);
    const ok = normalised !== null && (await this.d.recovery.consume(userId, await this.d.keys.hashRecoveryCode(normalised)));
    this.d.audit.record("mfa", ok ? "success" : "failure", { userId, action: "recovery_code_used" });
    if (!ok) throw new MfaError("ERR_MFA_CODE_INVALID");
  }

  /** Removes every factor of a user (admin reset); the caller revokes the sessions. */
  async reset(userId: string): Promise<void> {
    await this.d.totp.delete(userId);
    await this.d.recovery.deleteAll(userId);
    await this.d.passkeys.deleteAll(userId);
    this.forget(userId);
    this.d.audit.record("mfa", "success", { userId, action: "factors_reset" });
  }

  async #checkTotp(userId: string, code: string, secretEnc: string): Promise<void> {
    await this.d.limiter.take(userId);
    const step = matchingStep(await this.d.keys.open(secretEnc), code.trim());
    // The step is recorded only if later than every step used before: a replay (on any instance) loses here.
    if (step === null || !(await this.d.totp.useStep(userId, step))) {
      this.d.audit.record("mfa", "failure", { userId, action: "totp", reason: step === null ? "wrong_code" : "replayed_code" });
      throw new MfaError("ERR_MFA_CODE_INVALID");
    }
    await this.d.limiter.clear(userId);
  }

  async #newRecoveryCodes(userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    const hashes = await Promise.all(codes.map((c) => this.d.keys.hashRecoveryCode(normaliseRecoveryCode(c)!)));
    await this.d.recovery.replace(userId, hashes);
    return codes;
  }
}
