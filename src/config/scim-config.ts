import { ConfigError } from "./errors.ts";
import { bool, optionalStr, str, type Env } from "./readers.ts";

/** SCIM 2.0 provisioning (Open WebUI's variable names). */
export interface ScimConfig {
  /** `ENABLE_SCIM`. */
  readonly enabled: boolean;
  /** `SCIM_TOKEN`: the bearer token of the provisioning client (required when enabled). */
  readonly token: string | null;
  /** `SCIM_AUTH_PROVIDER`: key of `user.scim` holding `external_id`, and the OAuth provider whose `sub` an externalId may match. */
  readonly provider: string;
}

/** Reads the SCIM settings; a SCIM enabled without a token is refused (exit 2). */
export function readScimConfig(env: Env): ScimConfig {
  const enabled = bool(env, "ENABLE_SCIM", false);
  const token = optionalStr(env, "SCIM_TOKEN");
  if (enabled && (token === null || token.length < 16)) throw new ConfigError("SCIM_TOKEN", "a bearer token of at least 16 characters when ENABLE_SCIM is true");
  return { enabled, token, provider: str(env, "SCIM_AUTH_PROVIDER", "oidc") };
}
