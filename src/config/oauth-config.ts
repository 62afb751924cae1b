import { ConfigError } from "./errors.ts";
import { bool, fernetKeyList, fernetKeySource, int, list, oneOf, optionalStr, str, url, type Env } from "./readers.ts";

/** OAuth / OIDC sign-in and provider-session settings (Open WebUI's variable names). */
export interface OAuthConfig {
  readonly clientId: string | null;
  readonly clientSecret: string | null;
  readonly openidProviderUrl: string | null;
  readonly scopes: string;
  readonly providerName: string;
  readonly redirectUri: string | null;
  readonly codeChallengeMethod: "S256" | null;
  readonly maxSessionsPerUser: number;
  /** `OAUTH_SESSION_TOKEN_ENCRYPTION_KEY`; null → derived from the secret key. */
  readonly sessionEncryptionKey: string | null;
  /** `GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS`: older keys rows are still read with during a key rotation. */
  readonly previousSessionEncryptionKeys: readonly string[];
  readonly enableSignup: boolean;
  readonly mergeAccountsByEmail: boolean;
  /**
   * `OAUTH_MERGE_UNVERIFIED_EMAIL_PROVIDERS`: providers (`oidc`, `google`, `microsoft`, `github`)
   * whose logins merge by email without `email_verified: true` (a provider known not to send the
   * claim whose emails the operator trusts). Never Microsoft's multi-tenant authorities.
   */
  readonly mergeUnverifiedEmailProviders: readonly string[];
  readonly allowedDomains: readonly string[];
  /** `ENABLE_OAUTH_ROLE_MANAGEMENT`: roles come from `OAUTH_ROLES_CLAIM` on every login. */
  readonly roleManagement: boolean;
  /** Dotted path into the ID-token claims, e.g. `realm_access.roles`. */
  readonly rolesClaim: string;
  readonly allowedRoles: readonly string[];
  readonly adminRoles: readonly string[];
  readonly emailClaim: string;
  readonly usernameClaim: string;
  readonly pictureClaim: string;
  /** `GATEHOUSE_OAUTH_PROVIDER_TIMEOUT_MS`: each request to a provider (discovery, token, userinfo, JWKS). */
  readonly providerTimeoutMs: number;
  /** `ENABLE_OAUTH_BACKCHANNEL_LOGOUT`: accept logout tokens at `POST /oauth/backchannel-logout`. */
  readonly backchannelLogout: boolean;
  readonly google: PresetProviderConfig & {
    /** `GOOGLE_ISSUER_URL`: the issuer discovery starts from (a look-alike in tests). */
    readonly issuerUrl: string;
    /** `GOOGLE_HOSTED_DOMAIN`: only accounts of this Google Workspace domain (`hd`), or null. */
    readonly hostedDomain: string | null;
  };
  readonly microsoft: PresetProviderConfig & {
    readonly tenantId: string;
    /** `MICROSOFT_CLIENT_LOGIN_BASE_URL` (Open WebUI's): the authority host, for national clouds. */
    readonly loginBaseUrl: string;
  };
  readonly github: PresetProviderConfig & {
    /** `GITHUB_BASE_URL`: where `/login/oauth/*` live (GitHub Enterprise Server: its host). */
    readonly baseUrl: string;
    /** `GITHUB_API_URL`: the REST API root (GitHub Enterprise Server: `https://{host}/api/v3`). */
    readonly apiUrl: string;
  };
  /** `GATEHOUSE_OAUTH_MCP_CLIENTS`: OAuth clients for MCP tool servers (provider `mcp:{id}`). */
  readonly mcpClients: readonly McpClientConfig[];
}

/** One provider preset (Google, Microsoft, GitHub); enabled when both id and secret are set. */
export interface PresetProviderConfig {
  readonly clientId: string | null;
  readonly clientSecret: string | null;
  /** null → `{origin}/oauth/{provider}/login/callback` of the request. */
  readonly redirectUri: string | null;
  readonly scopes: string;
}

/** The former name of {@link PresetProviderConfig} (the presets no longer use arctic). */
export type ArcticProviderConfig = PresetProviderConfig;

/** One MCP tool server's OAuth client. */
export interface McpClientConfig {
  /** The server id: sessions are stored with provider `mcp:{id}`. */
  readonly id: string;
  /** Authorization server issuer (OpenID or RFC 8414 discovery). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string | null;
  readonly scopes: string;
}

/** Reads the OAuth section; throws {@link ConfigError} naming the first bad variable. */
export function readOAuthConfig(env: Env): OAuthConfig {
  return {
    clientId: optionalStr(env, "OAUTH_CLIENT_ID"),
    clientSecret: optionalStr(env, "OAUTH_CLIENT_SECRET"),
    openidProviderUrl: url(env, "OPENID_PROVIDER_URL", ["http:", "https:"]),
    scopes: str(env, "OAUTH_SCOPES", "openid email profile"),
    providerName: str(env, "OAUTH_PROVIDER_NAME", "SSO"),
    redirectUri: url(env, "OPENID_REDIRECT_URI", ["http:", "https:"]),
    codeChallengeMethod: oneOf(env, "OAUTH_CODE_CHALLENGE_METHOD", "s256", ["s256"]) === "s256" ? "S256" : null,
    maxSessionsPerUser: int(env, "OAUTH_MAX_SESSIONS_PER_USER", 10, 1, 1000),
    sessionEncryptionKey: fernetKeySource(env, "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY"),
    previousSessionEncryptionKeys: fernetKeyList(env, "GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS"),
    enableSignup: bool(env, "ENABLE_OAUTH_SIGNUP", false),
    mergeAccountsByEmail: bool(env, "OAUTH_MERGE_ACCOUNTS_BY_EMAIL", false),
    mergeUnverifiedEmailProviders: mergeUnverifiedEmailProviders(env),
    allowedDomains: list(env, "OAUTH_ALLOWED_DOMAINS").filter((d) => d !== "*"),
    roleManagement: bool(env, "ENABLE_OAUTH_ROLE_MANAGEMENT", false),
    rolesClaim: str(env, "OAUTH_ROLES_CLAIM", "roles"),
    allowedRoles: list(env, "OAUTH_ALLOWED_ROLES").length > 0 ? list(env, "OAUTH_ALLOWED_ROLES") : ["user", "admin"],
    adminRoles: list(env, "OAUTH_ADMIN_ROLES").length > 0 ? list(env, "OAUTH_ADMIN_ROLES") : ["admin"],
    emailClaim: str(env, "OAUTH_EMAIL_CLAIM", "email"),
    usernameClaim: str(env, "OAUTH_USERNAME_CLAIM", "name"),
    pictureClaim: str(env, "OAUTH_PICTURE_CLAIM", "picture"),
    providerTimeoutMs: int(env, "GATEHOUSE_OAUTH_PROVIDER_TIMEOUT_MS", 10_000, 100, 120_000),
    backchannelLogout: bool(env, "ENABLE_OAUTH_BACKCHANNEL_LOGOUT", false),
    google: {
      clientId: optionalStr(env, "GOOGLE_CLIENT_ID"),
      clientSecret: optionalStr(env, "GOOGLE_CLIENT_SECRET"),
      redirectUri: url(env, "GOOGLE_REDIRECT_URI", ["http:", "https:"]),
      scopes: str(env, "GOOGLE_OAUTH_SCOPE", "openid email profile"),
      issuerUrl: url(env, "GOOGLE_ISSUER_URL", ["http:", "https:"]) ?? "https://accounts.google.com",
      hostedDomain: optionalStr(env, "GOOGLE_HOSTED_DOMAIN")?.toLowerCase() ?? null,
    },
    microsoft: {
      clientId: optionalStr(env, "MICROSOFT_CLIENT_ID"),
      clientSecret: optionalStr(env, "MICROSOFT_CLIENT_SECRET"),
      tenantId: str(env, "MICROSOFT_CLIENT_TENANT_ID", "common"),
      redirectUri: url(env, "MICROSOFT_REDIRECT_URI", ["http:", "https:"]),
      scopes: str(env, "MICROSOFT_OAUTH_SCOPE", "openid email profile"),
      loginBaseUrl: stripSlash(url(env, "MICROSOFT_CLIENT_LOGIN_BASE_URL", ["http:", "https:"]) ?? "https://login.microsoftonline.com"),
    },
    github: {
      clientId: optionalStr(env, "GITHUB_CLIENT_ID"),
      clientSecret: optionalStr(env, "GITHUB_CLIENT_SECRET"),
      redirectUri: url(env, "GITHUB_CLIENT_REDIRECT_URI", ["http:", "https:"]),
      scopes: str(env, "GITHUB_CLIENT_SCOPE", "user:email"),
      baseUrl: stripSlash(url(env, "GITHUB_BASE_URL", ["http:", "https:"]) ?? "https://github.com"),
      apiUrl: stripSlash(url(env, "GITHUB_API_URL", ["http:", "https:"]) ?? "https://api.github.com"),
    },
    mcpClients: mcpClients(env),
  };
}

const MCP_CLIENTS_SHAPE = 'a JSON array of {"id", "issuer" (http/https URL), "client_id", optional "client_secret" and "scopes"}';

function mcpClients(env: Env): McpClientConfig[] {
  const text = env["GATEHOUSE_OAUTH_MCP_CLIENTS"]?.trim();
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError("GATEHOUSE_OAUTH_MCP_CLIENTS", MCP_CLIENTS_SHAPE);
  }
  if (!Array.isArray(parsed)) throw new ConfigError("GATEHOUSE_OAUTH_MCP_CLIENTS", MCP_CLIENTS_SHAPE);
  return parsed.map((c: unknown) => {
    const o = (typeof c === "object" && c !== null ? c : {}) as Record<string, unknown>;
    const ok = typeof o["id"] === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(o["id"]) && typeof o["issuer"] === "string" && /^https?:\/\//.test(o["issuer"])
      && typeof o["client_id"] === "string" && o["client_id"] !== "" && (o["client_secret"] === undefined || typeof o["client_secret"] === "string")
      && (o["scopes"] === undefined || typeof o["scopes"] === "string");
    if (!ok) throw new ConfigError("GATEHOUSE_OAUTH_MCP_CLIENTS", MCP_CLIENTS_SHAPE);
    return { id: o["id"] as string, issuer: o["issuer"] as string, clientId: o["client_id"] as string, clientSecret: (o["client_secret"] as string | undefined) ?? null, scopes: (o["scopes"] as string | undefined) ?? "" };
  });
}

function stripSlash(u: string): string {
  return u.replace(/\/+$/, "");
}

const SIGN_IN_PROVIDERS = ["oidc", "google", "microsoft", "github"];
// Tenants of Microsoft's multi-tenant authorities: any tenant's admin can put any address on a user.
const MULTI_TENANT = new Set(["common", "organizations", "consumers"]);

function mergeUnverifiedEmailProviders(env: Env): string[] {
  const names = list(env, "OAUTH_MERGE_UNVERIFIED_EMAIL_PROVIDERS").map((n) => n.toLowerCase());
  if (names.some((n) => !SIGN_IN_PROVIDERS.includes(n))) throw new ConfigError("OAUTH_MERGE_UNVERIFIED_EMAIL_PROVIDERS", `a comma-separated list of ${SIGN_IN_PROVIDERS.join(", ")}`);
  if (names.includes("microsoft") && MULTI_TENANT.has(str(env, "MICROSOFT_CLIENT_TENANT_ID", "common").toLowerCase())) {
    throw new ConfigError("OAUTH_MERGE_UNVERIFIED_EMAIL_PROVIDERS", "without microsoft while MICROSOFT_CLIENT_TENANT_ID is a multi-tenant authority (common, organizations, consumers)");
  }
  return names;
}
