import { ConfigError } from "./errors.ts";
import { bool, fernetKeyList, fernetKeySource, int, oneOf, type Env } from "./readers.ts";

/** Who must have a second factor (`GATEHOUSE_MFA`). */
export type MfaPolicy = "off" | "optional" | "required_for_admins" | "required";

/** Second factors and passkeys (issue 18). */
export interface MfaConfig {
  /** `off`: no second step, enrolment refused; `optional`: users choose; the others force enrolment. */
  readonly policy: MfaPolicy;
  /** `GATEHOUSE_MFA_ENCRYPTION_KEY` (Fernet key source); null → derived from `WEBUI_SECRET_KEY`. */
  readonly encryptionKey: string | null;
  /** `GATEHOUSE_MFA_PREVIOUS_ENCRYPTION_KEYS`: older keys (or older `WEBUI_SECRET_KEY`s) secrets are still read with during a rotation. */
  readonly previousEncryptionKeys: readonly string[];
  /** `GATEHOUSE_PASSKEYS`: passkey routes on (needs `WEBUI_URL` unless localhost development is allowed). */
  readonly passkeys: boolean;
  /** `GATEHOUSE_PASSKEYS_ALLOW_LOCALHOST`: without `WEBUI_URL`, use `localhost` as the relying party (development only). */
  readonly passkeysAllowLocalhost: boolean;
  /** `GATEHOUSE_MFA_TOKEN_TTL_SECONDS`: how long an `mfa_token` waits for its second step. */
  readonly tokenTtlSeconds: number;
  /** `GATEHOUSE_MFA_MAX_ATTEMPTS` code checks per user per `GATEHOUSE_MFA_ATTEMPT_WINDOW_SECONDS`. */
  readonly maxAttempts: number;
  readonly attemptWindowSeconds: number;
}

/** Reads the `GATEHOUSE_MFA*` / `GATEHOUSE_PASSKEYS*` variables; `publicUrl` is `WEBUI_URL`. */
export function readMfaConfig(env: Env, publicUrl: string | null): MfaConfig {
  const policy = oneOf<MfaPolicy>(env, "GATEHOUSE_MFA", "optional", ["off", "optional", "required_for_admins", "required"]);
  const passkeysAllowLocalhost = bool(env, "GATEHOUSE_PASSKEYS_ALLOW_LOCALHOST", false);
  // Default: on wherever a relying party is known; asked for explicitly without one is a boot error.
  const passkeys = bool(env, "GATEHOUSE_PASSKEYS", publicUrl !== null || passkeysAllowLocalhost) && policy !== "off";
  if (passkeys && publicUrl === null && !passkeysAllowLocalhost) {
    throw new ConfigError("GATEHOUSE_PASSKEYS", "needs WEBUI_URL (the relying party), or GATEHOUSE_PASSKEYS_ALLOW_LOCALHOST=true for development");
  }
  return {
    policy, passkeys, passkeysAllowLocalhost,
    encryptionKey: fernetKeySource(env, "GATEHOUSE_MFA_ENCRYPTION_KEY"),
    previousEncryptionKeys: fernetKeyList(env, "GATEHOUSE_MFA_PREVIOUS_ENCRYPTION_KEYS"),
    tokenTtlSeconds: int(env, "GATEHOUSE_MFA_TOKEN_TTL_SECONDS", 300, 1, 3600),
    maxAttempts: int(env, "GATEHOUSE_MFA_MAX_ATTEMPTS", 5, 1, 1000),
    attemptWindowSeconds: int(env, "GATEHOUSE_MFA_ATTEMPT_WINDOW_SECONDS", 300, 1, 86_400),
  };
}
