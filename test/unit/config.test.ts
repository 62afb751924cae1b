import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/config/errors.ts";

function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("defaults", () => {
  const c = loadConfig({});
  test("server", () => {
    expect(c.server).toMatchObject({ host: "127.0.0.1", port: 8080, dataDir: "./data", shutdownTimeoutMs: 10000 });
  });
  test("embedded database and in-memory store when nothing is configured", () => {
    expect(c.db.url).toBeNull();
    expect(c.redis.url).toBeNull();
    expect(c.redis.sentinelHosts).toEqual([]);
    expect(c.secretKey).toBeNull();
  });
  test("pool as Open WebUI: 5 + 10 overflow, 30 s timeout", () => {
    expect(c.db).toMatchObject({ poolSize: 5, maxOverflow: 10, timeoutSeconds: 30 });
  });
  test("Open WebUI's token lifetime, cookie defaults and key prefix", () => {
    expect(c.jwt).toMatchObject({ expiresIn: "4w", expiresInSeconds: 2419200, alg: "HS256", privateKeys: [] });
    expect(c.cookies).toEqual({ sameSite: "lax", secure: false });
    expect(c.redis.keyPrefix).toBe("open-webui");
    expect(c.redis.sentinelPort).toBe(26379);
    expect(c.auth.defaultUserRole).toBe("pending");
  });
  test("WebSocket limits: 10 s to authenticate, 1 MiB frames, Open WebUI's 120 s session-pool timeout", () => {
    expect(c.ws).toEqual({
      authTimeoutMs: 10_000, maxPayloadBytes: 1_048_576, idleTimeoutSeconds: 120, backpressureLimitBytes: 4_194_304,
      maxSocketsPerUser: 32, maxBadFrames: 5, sessionPoolTimeoutSeconds: 120, reaperIntervalMs: 30_000, anonPerClient: 64, anonMax: 1024,
    });
  });
  test("the result is frozen", () => {
    expect(Object.isFrozen(c.db)).toBe(true);
    expect(() => {
      (c.db as { poolSize: number }).poolSize = 99;
    }).toThrow();
  });
});

describe("precedence and fallbacks", () => {
  test("a set value wins; blank means unset", () => {
    expect(loadConfig({ DATABASE_POOL_SIZE: "7" }).db.poolSize).toBe(7);
    expect(loadConfig({ DATABASE_POOL_SIZE: "  " }).db.poolSize).toBe(5);
  });
  test("auth cookie settings fall back to the session cookie ones", () => {
    const c = loadConfig({ WEBUI_SESSION_COOKIE_SAME_SITE: "strict", WEBUI_SESSION_COOKIE_SECURE: "true" });
    expect(c.cookies).toEqual({ sameSite: "strict", secure: true });
    const d = loadConfig({ WEBUI_SESSION_COOKIE_SAME_SITE: "strict", WEBUI_AUTH_COOKIE_SAME_SITE: "none" });
    expect(d.cookies.sameSite).toBe("none");
  });
  test("JWT_EXPIRES_IN never-expire forms", () => {
    for (const v of ["-1", "0", "0s", "0d"]) expect(loadConfig({ JWT_EXPIRES_IN: v }).jwt.expiresInSeconds).toBeNull();
  });
  test("OPENAI_API_BASE_URLS list wins over the single URL", () => {
    const c = loadConfig({ OPENAI_API_BASE_URLS: "http://a/v1;http://b/v1", OPENAI_API_BASE_URL: "http://c/v1" });
    expect(c.openai.baseUrls).toEqual(["http://a/v1", "http://b/v1"]);
  });
  test("a 44-character Fernet key and a passphrase are both accepted", () => {
    expect(loadConfig({ OAUTH_SESSION_TOKEN_ENCRYPTION_KEY: "QKRihb_tYWL4uZcyVyEN87PG-YjNgCcIrcV4WFhIR5U=" }).oauth.sessionEncryptionKey).toHaveLength(44);
    expect(loadConfig({ OAUTH_SESSION_TOKEN_ENCRYPTION_KEY: "short passphrase" }).oauth.sessionEncryptionKey).toBe("short passphrase");
    expect(loadConfig({ GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS: "old one, QKRihb_tYWL4uZcyVyEN87PG-YjNgCcIrcV4WFhIR5U=" }).oauth.previousSessionEncryptionKeys).toEqual(["old one", "QKRihb_tYWL4uZcyVyEN87PG-YjNgCcIrcV4WFhIR5U="]);
  });
});

// One test per message: the variable is named, the accepted form is said, the value is not echoed.
const BAD: Array<[string, string, string]> = [
  ["GATEHOUSE_OAUTH_MCP_CLIENTS", '[{"id":"x"}]', 'GATEHOUSE_OAUTH_MCP_CLIENTS: invalid value; expected a JSON array of {"id", "issuer" (http/https URL), "client_id", optional "client_secret" and "scopes"}'],
  ["DATABASE_POOL_SIZE", "abc", "DATABASE_POOL_SIZE: invalid value; expected an integer from 1 to 1000"],
  ["DATABASE_POOL_SIZE", "0", "DATABASE_POOL_SIZE: invalid value; expected an integer from 1 to 1000"],
  ["DATABASE_POOL_MAX_OVERFLOW", "-1", "DATABASE_POOL_MAX_OVERFLOW: invalid value; expected an integer from 0 to 1000"],
  ["DATABASE_POOL_TIMEOUT", "soon", "DATABASE_POOL_TIMEOUT: invalid value; expected a number from 0.001 to 3600"],
  ["GATEHOUSE_DB_MAX_WAITERS", "1.5", "GATEHOUSE_DB_MAX_WAITERS: invalid value; expected an integer from 0 to 1000000"],
  ["GATEHOUSE_DB_LEAK_THRESHOLD_MS", "x", "GATEHOUSE_DB_LEAK_THRESHOLD_MS: invalid value; expected an integer from 1 to 3600000"],
  ["PORT", "70000", "PORT: invalid value; expected an integer from 0 to 65535"],
  ["WEBUI_AUTH_COOKIE_SAME_SITE", "maybe", "WEBUI_AUTH_COOKIE_SAME_SITE: invalid value; expected one of lax, strict, none"],
  ["WEBUI_SESSION_COOKIE_SAME_SITE", "sometimes", "WEBUI_SESSION_COOKIE_SAME_SITE: invalid value; expected one of lax, strict, none"],
  ["WEBUI_AUTH_COOKIE_SECURE", "perhaps", "WEBUI_AUTH_COOKIE_SECURE: invalid value; expected true or false"],
  ["REDIS_URL", "ftp://x", "REDIS_URL: invalid value; expected a URL starting with redis:// or rediss://"],
  ["REDIS_URL", "not a url", "REDIS_URL: invalid value; expected a URL starting with redis:// or rediss://"],
  ["REDIS_CLUSTER", "sure", "REDIS_CLUSTER: invalid value; expected true or false"],
  ["REDIS_SENTINEL_PORT", "0", "REDIS_SENTINEL_PORT: invalid value; expected an integer from 1 to 65535"],
  ["REDIS_SENTINEL_MAX_RETRY_COUNT", "many", "REDIS_SENTINEL_MAX_RETRY_COUNT: invalid value; expected an integer from 0 to 1000"],
  ["DATABASE_URL", "mysql://db/x", "DATABASE_URL: invalid value; expected a URL starting with postgres:// or postgresql://"],
  ["JWT_EXPIRES_IN", "2 weeks", "JWT_EXPIRES_IN: invalid value; expected a duration like 4w, 1d12h, 30m, 500ms, or -1 for never"],
  ["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY", "!".repeat(43) + "=", "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY: invalid value; expected a Fernet key (44 characters of URL-safe base64 encoding 32 bytes), or any passphrase of another length"],
  ["GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS", "old passphrase," + "!".repeat(43) + "=", "GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS: invalid value; expected comma-separated Fernet keys (44 characters of URL-safe base64 encoding 32 bytes) or passphrases of another length"],
  ["GATEHOUSE_ACCESS_LOG", "sometimes", "GATEHOUSE_ACCESS_LOG: invalid value; expected true or false"],
  ["GATEHOUSE_OPENAPI", "maybe", "GATEHOUSE_OPENAPI: invalid value; expected true or false"],
  ["WEBUI_URL", "chat.example.com", "WEBUI_URL: invalid value; expected a URL starting with http:// or https://"],
  ["DEFAULT_USER_ROLE", "root", "DEFAULT_USER_ROLE: invalid value; expected one of pending, user, admin"],
  ["ENABLE_SIGNUP", "maybe", "ENABLE_SIGNUP: invalid value; expected true or false"],
  ["GATEHOUSE_REDIS_FAILURE_MODE", "half", "GATEHOUSE_REDIS_FAILURE_MODE: invalid value; expected one of closed, open"],
  ["GATEHOUSE_LOG_LEVEL", "loud", "GATEHOUSE_LOG_LEVEL: invalid value; expected one of trace, debug, info, warn, error, fatal, silent"],
  ["GATEHOUSE_SHUTDOWN_TIMEOUT_MS", "-5", "GATEHOUSE_SHUTDOWN_TIMEOUT_MS: invalid value; expected an integer from 0 to 600000"],
  ["OPENAI_API_BASE_URL", "localhost:11434", "OPENAI_API_BASE_URL: invalid value; expected http:// or https:// URLs separated by ;"],
  ["GATEHOUSE_UPSTREAM_TIMEOUT_MS", "0", "GATEHOUSE_UPSTREAM_TIMEOUT_MS: invalid value; expected an integer from 1 to 3600000"],
  ["OPENID_PROVIDER_URL", "file:///etc/passwd", "OPENID_PROVIDER_URL: invalid value; expected a URL starting with http:// or https://"],
  ["GATEHOUSE_JWT_ALG", "HS512", "GATEHOUSE_JWT_ALG: invalid value; expected one of hs256, eddsa, es256, rs256"],
  ["GATEHOUSE_JWT_PRIVATE_KEYS", "-----BEGIN PRIVATE KEY-----", 'GATEHOUSE_JWT_PRIVATE_KEYS: invalid value; expected a JSON array, newest first, of PEM strings, JWK objects, or {"key": ..., "notAfter": unix-seconds}'],
  ["GATEHOUSE_CRYPTO_POLICY", "sometimes", "GATEHOUSE_CRYPTO_POLICY: invalid value; expected one of inline, pool, auto"],
  ["GATEHOUSE_CRYPTO_THREADS", "0", "GATEHOUSE_CRYPTO_THREADS: invalid value; expected an integer from 1 to 256"],
  ["OAUTH_MAX_SESSIONS_PER_USER", "0", "OAUTH_MAX_SESSIONS_PER_USER: invalid value; expected an integer from 1 to 1000"],
  ["GATEHOUSE_WS_AUTH_TIMEOUT_MS", "10s", "GATEHOUSE_WS_AUTH_TIMEOUT_MS: invalid value; expected an integer from 100 to 600000"],
  ["GATEHOUSE_WS_MAX_PAYLOAD", "512", "GATEHOUSE_WS_MAX_PAYLOAD: invalid value; expected an integer from 1024 to 67108864"],
  ["GATEHOUSE_WS_IDLE_TIMEOUT_SECONDS", "961", "GATEHOUSE_WS_IDLE_TIMEOUT_SECONDS: invalid value; expected an integer from 0 to 960"],
  ["GATEHOUSE_WS_BACKPRESSURE_LIMIT", "1kb", "GATEHOUSE_WS_BACKPRESSURE_LIMIT: invalid value; expected an integer from 65536 to 1073741824"],
  ["GATEHOUSE_WS_MAX_SOCKETS_PER_USER", "0", "GATEHOUSE_WS_MAX_SOCKETS_PER_USER: invalid value; expected an integer from 1 to 1000000"],
  ["GATEHOUSE_WS_MAX_BAD_FRAMES", "none", "GATEHOUSE_WS_MAX_BAD_FRAMES: invalid value; expected an integer from 1 to 1000"],
  ["GATEHOUSE_WS_SESSION_POOL_TIMEOUT_SECONDS", "0", "GATEHOUSE_WS_SESSION_POOL_TIMEOUT_SECONDS: invalid value; expected an integer from 1 to 86400"],
  ["GATEHOUSE_WS_REAPER_INTERVAL_MS", "50", "GATEHOUSE_WS_REAPER_INTERVAL_MS: invalid value; expected an integer from 100 to 3600000"],
];

describe("invalid values name the variable", () => {
  for (const [name, value, message] of BAD) {
    test(`${name}=${JSON.stringify(value)}`, () => {
      const e = errorFor({ [name]: value });
      expect(e.code).toBe("ERR_CONFIG_INVALID");
      expect(e.variable).toBe(name);
      expect(e.message).toBe(message);
    });
  }
  test("REDIS_SENTINEL_HOSTS without REDIS_URL names REDIS_URL", () => {
    const e = errorFor({ REDIS_SENTINEL_HOSTS: "a,b" });
    expect(e.variable).toBe("REDIS_URL");
    expect(e.message).toContain("Sentinel service name");
  });
  test("a secret-looking value is never echoed", () => {
    const e = errorFor({ REDIS_URL: "ftp://user:hunter2@x" });
    expect(e.message).not.toContain("hunter2");
  });
});

describe("runtime settings (Config.runtime)", () => {
  test("BUN_CONFIG_MAX_HTTP_REQUESTS: null when unset, the number when set, a named error when not a positive integer", () => {
    expect(loadConfig({}).runtime.bunMaxHttpRequests).toBeNull();
    expect(loadConfig({ BUN_CONFIG_MAX_HTTP_REQUESTS: "65535" }).runtime.bunMaxHttpRequests).toBe(65535);
    expect(() => loadConfig({ BUN_CONFIG_MAX_HTTP_REQUESTS: "lots" })).toThrow("BUN_CONFIG_MAX_HTTP_REQUESTS");
  });

  test("the CLI's log level is GATEHOUSE_LOG_LEVEL, default warn (the server's default stays info)", () => {
    expect(loadConfig({}).runtime.cliLogLevel).toBe("warn");
    expect(loadConfig({}).server.logLevel).toBe("info");
    expect(loadConfig({ GATEHOUSE_LOG_LEVEL: "debug" }).runtime.cliLogLevel).toBe("debug");
  });
});

describe("GATEHOUSE_LISTEN_BACKLOG", () => {
  test("auto by default; a number; off or 0 keeps the runtime's; anything else names the variable", () => {
    expect(loadConfig({}).server.listenBacklog).toBe("auto");
    expect(loadConfig({ GATEHOUSE_LISTEN_BACKLOG: "AUTO" }).server.listenBacklog).toBe("auto");
    expect(loadConfig({ GATEHOUSE_LISTEN_BACKLOG: "2048" }).server.listenBacklog).toBe(2048);
    expect(loadConfig({ GATEHOUSE_LISTEN_BACKLOG: "off" }).server.listenBacklog).toBeNull();
    expect(loadConfig({ GATEHOUSE_LISTEN_BACKLOG: "0" }).server.listenBacklog).toBeNull();
    for (const bad of ["-1", "lots", "4096.5", "2000000"]) {
      expect(errorFor({ GATEHOUSE_LISTEN_BACKLOG: bad }).message).toContain("GATEHOUSE_LISTEN_BACKLOG: invalid value; expected auto, off (or 0), or an integer from 1 to 1048576");
    }
  });
});
