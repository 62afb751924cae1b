import { ConfigError } from "./errors.ts";
import { bool, list, optionalStr, str, type Env } from "./readers.ts";
import { blockedGroupMatcher, UnsafeGroupPatternError, type GroupMatcher } from "./group-patterns.ts";

/** Group sync from OAuth claims and the trusted groups header (Open WebUI's variable names). */
export interface GroupsConfig {
  /** `ENABLE_OAUTH_GROUP_MANAGEMENT`: memberships follow the groups claim on every OAuth login. */
  readonly oauthManagement: boolean;
  /** `OAUTH_GROUPS_CLAIM` (or the older `OAUTH_GROUP_CLAIM`): a dotted path into the merged claims. */
  readonly oauthClaim: string;
  /** `OAUTH_GROUPS_SEPARATOR`: splits a claim that is one string. */
  readonly oauthSeparator: string;
  /** `ENABLE_OAUTH_GROUP_CREATION`: create groups named in the claim that do not exist. */
  readonly oauthCreation: boolean;
  /** `OAUTH_BLOCKED_GROUPS`, compiled (exact names, wildcards, bounded regexes). */
  readonly blocked: GroupMatcher;
  /** `WEBUI_AUTH_TRUSTED_GROUPS_HEADER` (lower-cased): comma-separated names from a trusted proxy. */
  readonly trustedGroupsHeader: string | null;
  /**
   * `GATEHOUSE_ACCESS_GROUPS` (comma-separated exact names; empty = off): a non-admin user must be
   * in one of these groups to sign in, and leaving the last of them ends every session they hold.
   */
  readonly accessGroups: readonly string[];
}

const BLOCKED_SHAPE = "a JSON array of group names, wildcards (sys-*) or regexes without nested quantifiers or backreferences";

/** Reads the group settings; throws {@link ConfigError} naming the variable at fault. */
export function readGroupsConfig(env: Env): GroupsConfig {
  return {
    oauthManagement: bool(env, "ENABLE_OAUTH_GROUP_MANAGEMENT", false),
    oauthClaim: optionalStr(env, "OAUTH_GROUPS_CLAIM") ?? str(env, "OAUTH_GROUP_CLAIM", "groups"),
    oauthSeparator: env["OAUTH_GROUPS_SEPARATOR"] || ";",
    oauthCreation: bool(env, "ENABLE_OAUTH_GROUP_CREATION", false),
    blocked: blockedFrom(env),
    trustedGroupsHeader: optionalStr(env, "WEBUI_AUTH_TRUSTED_GROUPS_HEADER")?.toLowerCase() ?? null,
    accessGroups: [...new Set(list(env, "GATEHOUSE_ACCESS_GROUPS"))],
  };
}

function blockedFrom(env: Env): GroupMatcher {
  const text = env["OAUTH_BLOCKED_GROUPS"]?.trim();
  if (!text) return blockedGroupMatcher([]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError("OAUTH_BLOCKED_GROUPS", BLOCKED_SHAPE);
  }
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === "string")) throw new ConfigError("OAUTH_BLOCKED_GROUPS", BLOCKED_SHAPE);
  try {
    return blockedGroupMatcher(parsed as string[]);
  } catch (e) {
    if (e instanceof UnsafeGroupPatternError) throw new ConfigError("OAUTH_BLOCKED_GROUPS", `${BLOCKED_SHAPE} (${e.message})`);
    throw e;
  }
}
