import type { Config } from "./config.ts";
import type { Env } from "./readers.ts";
import { ConfigError } from "./errors.ts";
import { parseTrustedProxies } from "../net/trusted-proxies.ts";

/** Secrets published with Open WebUI (its docker-compose and docs): anyone can forge tokens with them. */
const KNOWN_DEFAULT_SECRETS = new Set(["t0p-s3cr3t"]);
/** Below this a HS256 key is brute-forceable offline from one token. */
const MIN_SECRET_BYTES = 32;

/**
 * Refuses configurations that would let people in who should not, before the server
 * listens (the entry point exits 2 with the message). Separate from loadConfig so
 * `gatehouse doctor` can still load and report such a configuration.
 * @throws ConfigError naming the variable(s) at fault.
 */
export function assertSafeToServe(env: Env, config: Config): void {
  const secret = env["WEBUI_SECRET_KEY"];
  if (secret !== undefined && secret.trim() === "") {
    throw new ConfigError("WEBUI_SECRET_KEY", "a non-empty secret (unset it to have one generated into the data directory)");
  }
  if (isKnownDefaultSecret(config.secretKey)) {
    throw new ConfigError("WEBUI_SECRET_KEY", "a secret of your own, not Open WebUI's published default (anyone could forge tokens with it)");
  }
  const proxies = parseTrustedProxies(config.server.trustedProxies);
  if ("invalid" in proxies) {
    throw new ConfigError("GATEHOUSE_TRUSTED_PROXIES", "comma-separated IP addresses, CIDR ranges (10.0.0.0/8, fd00::/8) or *");
  }
  if ((config.auth.trustedEmailHeader || config.auth.trustedNameHeader) && config.server.trustedProxies.length === 0) {
    const header = config.auth.trustedEmailHeader ? "WEBUI_AUTH_TRUSTED_EMAIL_HEADER" : "WEBUI_AUTH_TRUSTED_NAME_HEADER";
    throw new ConfigError(header, `to be set only together with GATEHOUSE_TRUSTED_PROXIES (the addresses of the proxies allowed to set ${header}; it is empty)`);
  }
  if (config.server.metricsPort !== null && config.server.metricsPort === config.server.port) {
    throw new ConfigError("GATEHOUSE_METRICS_PORT", "a port other than PORT (unset it to serve /metrics on the main port)");
  }
  if (config.cookies.sameSite === "none" && !config.cookies.secure) {
    const variable = env["WEBUI_AUTH_COOKIE_SAME_SITE"]?.trim() ? "WEBUI_AUTH_COOKIE_SAME_SITE" : "WEBUI_SESSION_COOKIE_SAME_SITE";
    throw new ConfigError(variable, "lax or strict unless cookies are Secure (SameSite=None needs WEBUI_AUTH_COOKIE_SECURE=true or an https WEBUI_URL)");
  }
}

/** True for a secret published with Open WebUI (anyone can forge tokens signed with it). */
export function isKnownDefaultSecret(secret: string | null): boolean {
  return secret !== null && KNOWN_DEFAULT_SECRETS.has(secret);
}

/** Weak but allowed settings, logged as warnings at boot (one line each, no secret values). */
export function securityWarnings(config: Config): string[] {
  const w: string[] = [];
  if (config.secretKey !== null && new TextEncoder().encode(config.secretKey).length < MIN_SECRET_BYTES) {
    w.push(`WEBUI_SECRET_KEY is shorter than ${MIN_SECRET_BYTES} bytes: tokens signed with it can be brute-forced offline; use a random 32+ byte secret`);
  }
  if (config.server.publicUrl === null && config.server.allowedHosts.length === 0) {
    w.push("WEBUI_URL and GATEHOUSE_ALLOWED_HOSTS are unset: absolute URLs (OAuth redirect_uri) are built only for loopback Host headers (localhost, 127.0.0.1, ::1); other hosts get 400");
  }
  if (config.auth.trustedEmailHeader && config.server.trustedProxies.includes("*")) {
    w.push("GATEHOUSE_TRUSTED_PROXIES=* with a trusted email header: every peer may sign anyone in; list the proxy's address instead");
  }
  return w;
}
