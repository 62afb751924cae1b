import { ConfigError } from "./errors.ts";
import { readCryptoConfig, type CryptoConfig } from "./crypto-config.ts";
import { processConfig, type ProcessConfig } from "./process-config.ts";
import { bool, duration, int, list, num, oneOf, optionalStr, raw, str, url, type Env } from "./readers.ts";
import { readOAuthConfig, type OAuthConfig } from "./oauth-config.ts";
import { readLdapConfig, type LdapConfig } from "./ldap-config.ts";
import { readGroupsConfig, type GroupsConfig } from "./groups-config.ts";
import { readScimConfig, type ScimConfig } from "./scim-config.ts";
import { readSocketIoConfig, readWsConfig, type SocketIoConfig, type WsConfig } from "./ws-config.ts";
import { readMfaConfig, type MfaConfig } from "./mfa-config.ts";
import { listenBacklogSetting, type ListenBacklogSetting } from "./listen-backlog-config.ts";

export type { SocketIoConfig, WsConfig } from "./ws-config.ts";
export type { ArcticProviderConfig, McpClientConfig, OAuthConfig } from "./oauth-config.ts";
export type { LdapConfig, LdapTlsMode } from "./ldap-config.ts";

/** Cookie SameSite values accepted by Open WebUI's settings. */
export type SameSite = "lax" | "strict" | "none";
/** What an instance does with a token it cannot check for revocation because Redis is down. */
export type RedisFailureMode = "closed" | "open";
/** Roles a new user can be given. */
export type UserRole = "pending" | "user" | "admin";

const LOG_LEVELS: readonly Config["server"]["logLevel"][] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** The typed, validated, frozen configuration. Read once at boot by {@link loadConfig}. */
export interface Config {
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly dataDir: string;
    readonly shutdownTimeoutMs: number;
    /** How long readiness reports 503 while still serving, so load balancers stop sending first. */
    readonly shutdownDrainDelayMs: number;
    readonly logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
    /** `GATEHOUSE_ACCESS_LOG`: one JSON line per request (probe and scrape requests at debug). */
    readonly accessLog: boolean;
    /** `GATEHOUSE_OPENAPI`: serve `/openapi` (docs UI) and `/openapi/json`. */
    readonly openapi: boolean;
    /** `WEBUI_URL` (Open WebUI's): the public base URL; its origin is accepted on page form posts. */
    readonly publicUrl: string | null;
    readonly trustedProxies: readonly string[];
    /** `GATEHOUSE_ALLOWED_HOSTS`: Host values absolute URLs may be built from when `WEBUI_URL` is unset (empty: loopback only). */
    readonly allowedHosts: readonly string[];
    /** `GATEHOUSE_METRICS_PORT`: serve `/metrics` on this port only (null: on the main port). */
    readonly metricsPort: number | null;
    /** `GATEHOUSE_METRICS_TOKEN`: `/metrics` requires `Authorization: Bearer <token>` (null: open). */
    readonly metricsToken: string | null;
    readonly maxBodyBytes: number;
    readonly maxHeaderBytes: number;
    /** `GATEHOUSE_LISTEN_BACKLOG`: the listener's accept-queue cap (src/runtime/listen-backlog.ts). */
    readonly listenBacklog: ListenBacklogSetting;
  };
  /** `WEBUI_SECRET_KEY`; null means "generate one into the data dir". */
  readonly secretKey: string | null;
  readonly jwt: {
    readonly expiresIn: string;
    readonly expiresInSeconds: number | null;
    /** `GATEHOUSE_JWT_ALG`: HS256 (Open WebUI's) or an asymmetric algorithm. */
    readonly alg: "HS256" | "EdDSA" | "ES256" | "RS256";
    /** `GATEHOUSE_JWT_PRIVATE_KEYS`: newest first (PEM text or JWK objects); empty → generated into the data dir. */
    readonly privateKeys: readonly (string | JsonWebKey | { key: string | JsonWebKey; notAfter?: number })[];
  };
  readonly crypto: CryptoConfig;
  readonly cookies: { readonly sameSite: SameSite; readonly secure: boolean };
  readonly db: {
    /** null → embedded PGlite in the data dir. */
    readonly url: string | null;
    readonly poolSize: number;
    readonly maxOverflow: number;
    readonly timeoutSeconds: number;
    readonly maxWaiters: number;
    readonly leakThresholdMs: number;
    /** false for PgBouncer in transaction mode. */
    readonly prepare: boolean;
  };
  readonly redis: {
    /** null and no sentinels → in-memory store (single instance only). */
    readonly url: string | null;
    readonly sentinelHosts: readonly string[];
    readonly sentinelPort: number;
    readonly sentinelMaxRetryCount: number;
    readonly cluster: boolean;
    readonly keyPrefix: string;
    readonly failureMode: RedisFailureMode;
    /** Answer revocation checks from the local replica (default); false asks Redis every time. */
    readonly revocationReplica: boolean;
  };
  readonly auth: {
    readonly enableSignup: boolean;
    readonly defaultUserRole: UserRole;
    readonly enableApiKeys: boolean;
    readonly trustedEmailHeader: string | null;
    readonly trustedNameHeader: string | null;
    /** How Gatehouse stores API keys it creates (Open WebUI: plaintext). */
    readonly apiKeyStorage: "sha256" | "plaintext";
    /** Seconds between `last_active_at` writes for one user (writes are batched). */
    readonly activeStatusUpdateIntervalSeconds: number;
    readonly signInRateLimit: { readonly perEmail: number; readonly perIp: number; readonly windowSeconds: number };
  };
  readonly oauth: OAuthConfig;
  /** LDAP / Active Directory sign-in (`ENABLE_LDAP`, `LDAP_*`). */
  readonly ldap: LdapConfig;
  /** Group sync from OAuth claims and the trusted groups header. */
  readonly groups: GroupsConfig;
  /** SCIM 2.0 provisioning at `/api/v1/scim/v2/`. */
  readonly scim: ScimConfig;
  /** Second factors and passkeys (`GATEHOUSE_MFA*`, `GATEHOUSE_PASSKEYS*`). */
  readonly mfa: MfaConfig;
  /** The WebSocket hub (`/ws`). */
  readonly ws: WsConfig;
  /** Socket.IO on `/ws/socket.io` (Open WebUI's variable names). */
  readonly socketio: SocketIoConfig;
  readonly openai: {
    readonly baseUrls: readonly string[];
    readonly keys: readonly string[];
    /** `GATEHOUSE_UPSTREAM_TIMEOUT_MS`: longest the gateway waits on an upstream without progress. */
    readonly timeoutMs: number;
    /** `GATEHOUSE_GATEWAY_MAX_STREAMS_PER_USER`: concurrent chat calls per user on one instance (0 = no cap). */
    readonly maxStreamsPerUser: number;
  };
  /** Fault handling (issue 20): the user cache's stale fallback and the usage reaper's heartbeat. */
  readonly faults: {
    /** `GATEHOUSE_USER_CACHE_TTL_MS`: a cached user is re-read from the database after this long. */
    readonly userCacheTtlMs: number;
    /** `GATEHOUSE_USER_CACHE_MAX_STALE_MS`: how long past its TTL an entry is still served while the database cannot be read. */
    readonly userCacheMaxStaleMs: number;
    /** `GATEHOUSE_INSTANCE_HEARTBEAT_MS`: how often an instance says it is alive; 3 missed beats and its open usage rows are closed as `interrupted`. */
    readonly instanceHeartbeatMs: number;
  };
  /** `GATEHOUSE_PROCESSES`: server processes on one port (src/supervisor.ts). */
  readonly processes: ProcessConfig;
  /** Settings of the process rather than of Gatehouse. */
  readonly runtime: RuntimeConfig;
}

/** What the runtime and the admin CLI are started with. */
export interface RuntimeConfig {
  /** `BUN_CONFIG_MAX_HTTP_REQUESTS`: Bun's cap on concurrent fetch() (Bun reads it at start; null = Bun's default). */
  readonly bunMaxHttpRequests: number | null;
  /** `GATEHOUSE_LOG_LEVEL` for the admin CLI, whose default is `warn` (stdout is its output). */
  readonly cliLogLevel: Config["server"]["logLevel"];
}

/**
 * Reads and validates every variable once. Throws {@link ConfigError} naming the first
 * variable whose value cannot be used.
 */
export function loadConfig(env: Env): Config {
  const sentinelHosts = list(env, "REDIS_SENTINEL_HOSTS");
  const redisUrl = url(env, "REDIS_URL", ["redis:", "rediss:"]);
  if (sentinelHosts.length > 0 && redisUrl === null) {
    throw new ConfigError("REDIS_URL", "a redis:// URL whose host part is the Sentinel service name when REDIS_SENTINEL_HOSTS is set");
  }
  const baseUrls = openaiUrls(env);
  const sameSiteFallback = oneOf<SameSite>(env, "WEBUI_SESSION_COOKIE_SAME_SITE", "lax", ["lax", "strict", "none"]);
  const secureFallback = bool(env, "WEBUI_SESSION_COOKIE_SECURE", false);
  const config: Config = {
    server: {
      host: str(env, "HOST", "127.0.0.1"),
      port: int(env, "PORT", 8080, 0, 65535),
      dataDir: str(env, "GATEHOUSE_DATA_DIR", "./data"),
      shutdownTimeoutMs: int(env, "GATEHOUSE_SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
      shutdownDrainDelayMs: int(env, "GATEHOUSE_SHUTDOWN_DRAIN_DELAY_MS", 5_000, 0, 600_000),
      logLevel: oneOf(env, "GATEHOUSE_LOG_LEVEL", "info", LOG_LEVELS),
      accessLog: bool(env, "GATEHOUSE_ACCESS_LOG", true),
      openapi: bool(env, "GATEHOUSE_OPENAPI", true),
      publicUrl: url(env, "WEBUI_URL", ["http:", "https:"]),
      trustedProxies: list(env, "GATEHOUSE_TRUSTED_PROXIES"),
      allowedHosts: list(env, "GATEHOUSE_ALLOWED_HOSTS").map((h) => h.toLowerCase()),
      metricsPort: raw(env, "GATEHOUSE_METRICS_PORT") === undefined ? null : int(env, "GATEHOUSE_METRICS_PORT", 0, 1, 65535),
      metricsToken: optionalStr(env, "GATEHOUSE_METRICS_TOKEN"),
      maxBodyBytes: int(env, "GATEHOUSE_MAX_BODY_BYTES", 1_048_576, 1024, 104_857_600),
      maxHeaderBytes: int(env, "GATEHOUSE_MAX_HEADER_BYTES", 32_768, 1024, 262_144),
      listenBacklog: listenBacklogSetting(env),
    },
    secretKey: optionalStr(env, "WEBUI_SECRET_KEY"),
    jwt: (() => {
      const d = duration(env, "JWT_EXPIRES_IN", "4w");
      return {
        expiresIn: d.text,
        expiresInSeconds: d.seconds,
        alg: JWT_ALGS[oneOf(env, "GATEHOUSE_JWT_ALG", "hs256", Object.keys(JWT_ALGS) as Array<keyof typeof JWT_ALGS>)],
        privateKeys: jwtKeys(env),
      };
    })(),
    crypto: readCryptoConfig(env),
    cookies: {
      sameSite: oneOf<SameSite>(env, "WEBUI_AUTH_COOKIE_SAME_SITE", sameSiteFallback, ["lax", "strict", "none"]),
      // An https WEBUI_URL means browsers reach us over TLS: the cookie must never travel in clear.
      secure: bool(env, "WEBUI_AUTH_COOKIE_SECURE", secureFallback) || raw(env, "WEBUI_URL")?.toLowerCase().startsWith("https:") === true,
    },
    db: {
      url: url(env, "DATABASE_URL", ["postgres:", "postgresql:"]),
      poolSize: int(env, "DATABASE_POOL_SIZE", 5, 1, 1000),
      maxOverflow: int(env, "DATABASE_POOL_MAX_OVERFLOW", 10, 0, 1000),
      timeoutSeconds: num(env, "DATABASE_POOL_TIMEOUT", 30, 0.001, 3600),
      maxWaiters: int(env, "GATEHOUSE_DB_MAX_WAITERS", 1000, 0, 1_000_000),
      leakThresholdMs: int(env, "GATEHOUSE_DB_LEAK_THRESHOLD_MS", 10_000, 1, 3_600_000),
      prepare: bool(env, "GATEHOUSE_DB_PREPARE", true),
    },
    redis: {
      url: redisUrl,
      sentinelHosts,
      sentinelPort: int(env, "REDIS_SENTINEL_PORT", 26379, 1, 65535),
      sentinelMaxRetryCount: int(env, "REDIS_SENTINEL_MAX_RETRY_COUNT", 2, 0, 1000),
      cluster: bool(env, "REDIS_CLUSTER", false),
      keyPrefix: str(env, "REDIS_KEY_PREFIX", "open-webui"),
      failureMode: oneOf<RedisFailureMode>(env, "GATEHOUSE_REDIS_FAILURE_MODE", "closed", ["closed", "open"]),
      revocationReplica: bool(env, "GATEHOUSE_REVOCATION_REPLICA", true),
    },
    auth: {
      enableSignup: bool(env, "ENABLE_SIGNUP", false),
      defaultUserRole: oneOf<UserRole>(env, "DEFAULT_USER_ROLE", "pending", ["pending", "user", "admin"]),
      enableApiKeys: bool(env, "ENABLE_API_KEYS", true),
      trustedEmailHeader: optionalStr(env, "WEBUI_AUTH_TRUSTED_EMAIL_HEADER")?.toLowerCase() ?? null,
      trustedNameHeader: optionalStr(env, "WEBUI_AUTH_TRUSTED_NAME_HEADER")?.toLowerCase() ?? null,
      apiKeyStorage: oneOf(env, "GATEHOUSE_API_KEY_STORAGE", "sha256", ["sha256", "plaintext"]),
      activeStatusUpdateIntervalSeconds: int(env, "DATABASE_USER_ACTIVE_STATUS_UPDATE_INTERVAL", 60, 1, 86_400),
      signInRateLimit: {
        perEmail: int(env, "GATEHOUSE_SIGNIN_RATE_LIMIT_PER_EMAIL", 15, 1, 1_000_000),
        perIp: int(env, "GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP", 60, 1, 1_000_000),
        windowSeconds: int(env, "GATEHOUSE_SIGNIN_RATE_LIMIT_WINDOW_SECONDS", 180, 1, 86_400),
      },
    },
    oauth: readOAuthConfig(env),
    ldap: readLdapConfig(env),
    groups: readGroupsConfig(env),
    scim: readScimConfig(env),
    runtime: {
      bunMaxHttpRequests: env["BUN_CONFIG_MAX_HTTP_REQUESTS"] === undefined ? null : int(env, "BUN_CONFIG_MAX_HTTP_REQUESTS", 256, 1, 1_000_000),
      cliLogLevel: oneOf(env, "GATEHOUSE_LOG_LEVEL", "warn", LOG_LEVELS),
    },
    mfa: readMfaConfig(env, url(env, "WEBUI_URL", ["http:", "https:"])),
    ws: readWsConfig(env),
    socketio: readSocketIoConfig(env),
    openai: {
      baseUrls,
      keys: list(env, "OPENAI_API_KEYS", ";").length > 0 ? list(env, "OPENAI_API_KEYS", ";") : list(env, "OPENAI_API_KEY", ";"),
      timeoutMs: int(env, "GATEHOUSE_UPSTREAM_TIMEOUT_MS", 240_000, 1, 3_600_000),
      maxStreamsPerUser: int(env, "GATEHOUSE_GATEWAY_MAX_STREAMS_PER_USER", 64, 0, 1_000_000),
    },
    faults: {
      userCacheTtlMs: int(env, "GATEHOUSE_USER_CACHE_TTL_MS", 60_000, 100, 86_400_000),
      userCacheMaxStaleMs: int(env, "GATEHOUSE_USER_CACHE_MAX_STALE_MS", 3_600_000, 0, 604_800_000),
      instanceHeartbeatMs: int(env, "GATEHOUSE_INSTANCE_HEARTBEAT_MS", 5_000, 100, 600_000),
    },
    processes: processConfig(env, { databaseUrl: raw(env, "DATABASE_URL") ?? null, redisUrl: redisUrl }),
  };
  return deepFreeze(config);
}

const JWT_ALGS = { hs256: "HS256", eddsa: "EdDSA", es256: "ES256", rs256: "RS256" } as const;

function jwtKeys(env: Env): Array<string | JsonWebKey | { key: string | JsonWebKey; notAfter?: number }> {
  const v = env["GATEHOUSE_JWT_PRIVATE_KEYS"]?.trim();
  if (!v) return [];
  const accepts = "a JSON array, newest first, of PEM strings, JWK objects, or {\"key\": ..., \"notAfter\": unix-seconds}";
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new ConfigError("GATEHOUSE_JWT_PRIVATE_KEYS", accepts);
  }
  const ok = Array.isArray(parsed) && parsed.every((k) => typeof k === "string" || (typeof k === "object" && k !== null));
  if (!ok) throw new ConfigError("GATEHOUSE_JWT_PRIVATE_KEYS", accepts);
  return parsed as Array<string | JsonWebKey>;
}

function openaiUrls(env: Env): string[] {
  const name = env["OPENAI_API_BASE_URLS"] !== undefined ? "OPENAI_API_BASE_URLS" : "OPENAI_API_BASE_URL";
  const urls = list(env, name, ";");
  for (const u of urls) {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(u).protocol);
    } catch { /* reported below */ }
    if (!ok) throw new ConfigError(name, "http:// or https:// URLs separated by ;");
  }
  return urls;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
