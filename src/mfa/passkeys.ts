import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { UserRecord, UsersRepo } from "../db/repos/users.ts";
import type { PasskeyRow, PasskeysRepo } from "../db/repos/passkeys.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import { decodeBase64Url, encodeBase64Url } from "../crypto/base64url.ts";
import type { MfaService } from "./mfa-service.ts";
import type { PendingSignIn } from "./pending-sign-in.ts";
import type { RelyingParty } from "./relying-party.ts";
import { WebAuthnChallenges, type ChallengeRecord } from "./webauthn-challenges.ts";
import { MfaError } from "./mfa-errors.ts";

/** A passkey as listed to its owner (no key material). */
export interface PasskeySummary {
  id: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
  backed_up: boolean;
  device_type: string | null;
}

/** What {@link PasskeyService} is built from. */
export interface PasskeyDeps {
  repo: PasskeysRepo;
  challenges: WebAuthnChallenges;
  rp: RelyingParty;
  mfa: MfaService;
  users: UsersRepo;
  audit: AuditTrail;
}

const encoder = new TextEncoder();

function summary(r: PasskeyRow): PasskeySummary {
  return { id: r.id, name: r.name, created_at: r.created_at, last_used_at: r.last_used_at, backed_up: r.backed_up, device_type: r.device_type };
}

/**
 * Passkeys with @simplewebauthn/server: registration (resident key, user verification
 * preferred), use as a second factor and as passwordless sign-in (discoverable credentials,
 * user verification required). Challenges are single use with a TTL in the shared store; the
 * signature counter must move forward (a regression — a cloned authenticator — is refused and
 * audited), and it moves atomically, so one assertion cannot be used twice.
 */
export class PasskeyService {
  constructor(private readonly d: PasskeyDeps) {}

  /** Options for `navigator.credentials.create`. */
  async registrationOptions(user: UserRecord): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.d.repo.listByUser(user.id);
    const challenge = await this.d.challenges.issue({ purpose: "register", userId: user.id });
    return generateRegistrationOptions({
      rpName: this.d.rp.name,
      rpID: this.d.rp.id,
      userName: user.email,
      userDisplayName: user.name,
      userID: encoder.encode(user.id),
      challenge: decodeBase64Url(challenge)!,
      attestationType: "none",
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports?.split(",").filter(Boolean) })),
      authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
    });
  }

  /** Verifies a registration and stores the passkey; the first factor also returns recovery codes. */
  async register(user: UserRecord, request: Request, response: unknown, name: string | undefined): Promise<{ passkey: PasskeySummary; recovery_codes: string[] | null }> {
    await this.#challenge(response, { purpose: "register", userId: user.id });
    const hadFactor = await this.d.mfa.hasFactor(user.id);
    let info;
    try {
      const v = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: WebAuthnChallenges.challengeOf(response)!,
        expectedOrigin: this.d.rp.origins(request),
        expectedRPID: this.d.rp.id,
        requireUserVerification: false,
      });
      if (!v.verified) throw new MfaError("ERR_PASSKEY_INVALID");
      info = v.registrationInfo;
    } catch {
      this.d.audit.record("mfa", "failure", { userId: user.id, action: "passkey_register" });
      throw new MfaError("ERR_PASSKEY_INVALID");
    }
    const row = {
      id: info.credential.id,
      user_id: user.id,
      name: (name?.trim() || `Passkey ${(await this.d.repo.count(user.id)) + 1}`).slice(0, 64),
      public_key: encodeBase64Url(info.credential.publicKey),
      counter: info.credential.counter,
      transports: info.credential.transports?.join(",") ?? null,
      device_type: info.credentialDeviceType,
      backed_up: info.credentialBackedUp,
    };
    try {
      await this.d.repo.insert(row);
    } catch (e) {
      // The same authenticator registered twice (excludeCredentials is only a hint to the browser).
      if ((e as { code?: string }).code === "23505") throw new MfaError("ERR_PASSKEY_INVALID");
      throw e;
    }
    const recovery = await this.d.mfa.factorAdded(user.id, hadFactor, "passkey_registered");
    return { passkey: summary({ ...row, created_at: Math.floor(Date.now() / 1000), last_used_at: null }), recovery_codes: recovery };
  }

  /**
   * Options for `navigator.credentials.get`: for the second step of `pending` (its user's
   * passkeys), or, without one, for passwordless sign-in (any discoverable credential).
   */
  async authenticationOptions(pending: PendingSignIn | null): Promise<PublicKeyCredentialRequestOptionsJSON> {
    if (pending) {
      const creds = await this.d.repo.listByUser(pending.userId);
      const challenge = await this.d.challenges.issue({ purpose: "second_factor", userId: pending.userId });
      return generateAuthenticationOptions({
        rpID: this.d.rp.id,
        challenge: decodeBase64Url(challenge)!,
        userVerification: "preferred",
        allowCredentials: creds.map((p) => ({ id: p.id, transports: p.transports?.split(",").filter(Boolean) })),
      });
    }
    const challenge = await this.d.challenges.issue({ purpose: "authenticate" });
    return generateAuthenticationOptions({ rpID: this.d.rp.id, challenge: decodeBase64Url(challenge)!, userVerification: "required" });
  }

  /** Passwordless sign-in: the user whose discoverable passkey (with user verification) signed the challenge. */
  async authenticate(request: Request, response: unknown): Promise<UserRecord> {
    const row = await this.#assertion(request, response, { purpose: "authenticate" });
    const user = await this.d.users.byId(row.user_id);
    if (!user) throw new MfaError("ERR_PASSKEY_INVALID");
    return user;
  }

  /** The second step with a passkey of the pending sign-in's user. */
  async verifySecondFactor(pending: PendingSignIn, assertion: unknown, request: Request): Promise<void> {
    await this.#assertion(request, assertion, { purpose: "second_factor", userId: pending.userId });
  }

  async list(user: UserRecord): Promise<PasskeySummary[]> {
    return (await this.d.repo.listByUser(user.id)).map(summary);
  }

  async rename(user: UserRecord, id: string, name: string): Promise<void> {
    if (!(await this.d.repo.rename(user.id, id, name.trim().slice(0, 64) || "Passkey"))) throw new MfaError("ERR_PASSKEY_NOT_FOUND");
  }

  async delete(user: UserRecord, id: string): Promise<void> {
    if (!(await this.d.repo.delete(user.id, id))) throw new MfaError("ERR_PASSKEY_NOT_FOUND");
    await this.d.mfa.factorRemoved(user.id, "passkey_deleted");
  }

  /** Consumes the challenge the response answers; it must have been issued for `expected`. */
  async #challenge(response: unknown, expected: ChallengeRecord): Promise<void> {
    const challenge = WebAuthnChallenges.challengeOf(response);
    const record = challenge === null ? null : await this.d.challenges.consume(challenge);
    if (!record || record.purpose !== expected.purpose || record.userId !== expected.userId) throw new MfaError("ERR_PASSKEY_INVALID");
  }

  async #assertion(request: Request, response: unknown, expected: ChallengeRecord): Promise<PasskeyRow> {
    await this.#challenge(response, expected);
    const id = (response as { id?: unknown } | null)?.id;
    const row = typeof id === "string" && id.length <= 1024 ? await this.d.repo.byId(id) : null;
    if (!row || (expected.userId !== undefined && row.user_id !== expected.userId)) throw new MfaError("ERR_PASSKEY_INVALID");
    let info;
    try {
      const v = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: WebAuthnChallenges.challengeOf(response)!,
        expectedOrigin: this.d.rp.origins(request),
        expectedRPID: this.d.rp.id,
        // Counter 0 here: the regression check below is ours, so it can be audited as such.
        credential: { id: row.id, publicKey: decodeBase64Url(row.public_key)!, counter: 0, transports: row.transports?.split(",").filter(Boolean) },
        requireUserVerification: expected.purpose === "authenticate",
      });
      if (!v.verified) throw new MfaError("ERR_PASSKEY_INVALID");
      info = v.authenticationInfo;
    } catch {
      this.d.audit.record("mfa", "failure", { userId: row.user_id, action: "passkey", reason: "assertion" });
      throw new MfaError("ERR_PASSKEY_INVALID");
    }
    if ((info.newCounter > 0 || row.counter > 0) && info.newCounter <= row.counter) {
      this.d.audit.record("mfa", "refused", { userId: row.user_id, action: "passkey", reason: "counter_regression", passkey: row.id, stored: row.counter, presented: info.newCounter });
      throw new MfaError("ERR_PASSKEY_INVALID");
    }
    if (!(await this.d.repo.recordUse(row.id, row.counter, info.newCounter, info.credentialBackedUp))) throw new MfaError("ERR_PASSKEY_INVALID");
    return row;
  }
}
