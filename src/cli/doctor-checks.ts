import { dataFileExists, dataFilePath, SECRET_KEY_FILE } from "../embedded/data-dir.ts";
import type { Config } from "../config/config.ts";
import { isFernetKey } from "../config/readers.ts";
import { isKnownDefaultSecret } from "../config/boot-checks.ts";

/** One finding: `fix` says what to change when it is not OK. */
export interface Finding {
  status: "OK" | "WARN" | "FAIL";
  check: string;
  detail: string;
  fix?: string;
}

/** Clock differences beyond these break token `iat`/`exp` checks across machines. */
export const SKEW_WARN_MS = 2_000;
export const SKEW_FAIL_MS = 30_000;

/** A skew finding for a clock read at `remoteMs` during a round trip from `sentMs` to `receivedMs`. */
export function skewFinding(check: string, remoteMs: number, sentMs: number, receivedMs: number): Finding {
  const skew = Math.round(remoteMs - (sentMs + receivedMs) / 2);
  const abs = Math.abs(skew);
  const detail = `clock differs by ${skew} ms from this machine`;
  if (abs <= SKEW_WARN_MS) return { status: "OK", check, detail };
  return {
    status: abs > SKEW_FAIL_MS ? "FAIL" : "WARN", check, detail,
    fix: "run NTP (chrony/systemd-timesyncd) on every host: tokens carry iat/exp and instances compare them with their own clocks",
  };
}

/** Checks that need no connection: secrets, keys, cookie and token settings. */
export function configFindings(c: Config): Finding[] {
  const f: Finding[] = [];
  const shared = c.redis.url !== null || c.redis.sentinelHosts.length > 0;
  if (c.secretKey === null) {
    const file = dataFilePath(c.server.dataDir, SECRET_KEY_FILE);
    f.push(shared
      ? { status: "FAIL", check: "WEBUI_SECRET_KEY", detail: "not set while instances share Redis: each instance would sign with its own generated key", fix: "set WEBUI_SECRET_KEY to the same 32+ random characters on every Gatehouse and Open WebUI instance (e.g. `openssl rand -base64 48`)" }
      : { status: "OK", check: "WEBUI_SECRET_KEY", detail: dataFileExists(c.server.dataDir, SECRET_KEY_FILE) ? `generated, in ${file}` : `will be generated into ${file} on first start` });
  } else if (isKnownDefaultSecret(c.secretKey)) {
    f.push({ status: "FAIL", check: "WEBUI_SECRET_KEY", detail: "Open WebUI's published default: anyone can forge an admin token (the server refuses to start)", fix: "set a random secret of your own (`openssl rand -base64 48`) on every Gatehouse and Open WebUI instance" });
  } else if ([...c.secretKey].length < 32) {
    f.push({ status: "WARN", check: "WEBUI_SECRET_KEY", detail: `only ${[...c.secretKey].length} characters`, fix: "use at least 32 random characters (`openssl rand -base64 48`); it signs every session token" });
  } else {
    f.push({ status: "OK", check: "WEBUI_SECRET_KEY", detail: `${[...c.secretKey].length} characters` });
  }
  const oauthKey = c.oauth.sessionEncryptionKey;
  if (oauthKey === null) f.push({ status: "OK", check: "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY", detail: "not set: derived from WEBUI_SECRET_KEY, as Open WebUI does" });
  else if (isFernetKey(oauthKey)) f.push({ status: "OK", check: "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY", detail: "a Fernet key" });
  else if ([...oauthKey].length < 32) f.push({ status: "WARN", check: "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY", detail: `a ${[...oauthKey].length}-character passphrase`, fix: "use a Fernet key (`python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`) or 32+ random characters" });
  else f.push({ status: "OK", check: "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY", detail: "a passphrase, hashed into a Fernet key" });
  if (c.cookies.sameSite === "none" && !c.cookies.secure) {
    f.push({ status: "FAIL", check: "cookies", detail: "SameSite=None without Secure: browsers drop the session cookie", fix: "set WEBUI_AUTH_COOKIE_SECURE=true (and serve over HTTPS), or use SameSite=lax" });
  } else {
    f.push({ status: "OK", check: "cookies", detail: `SameSite=${c.cookies.sameSite}, Secure=${c.cookies.secure}` });
  }
  if (c.auth.trustedEmailHeader && c.server.trustedProxies.length === 0) {
    f.push({ status: "FAIL", check: "trusted header", detail: "WEBUI_AUTH_TRUSTED_EMAIL_HEADER without GATEHOUSE_TRUSTED_PROXIES (the server refuses to start)", fix: "list the reverse proxy's address or subnet in GATEHOUSE_TRUSTED_PROXIES" });
  }
  if (c.jwt.expiresInSeconds === null) {
    f.push({ status: "WARN", check: "JWT_EXPIRES_IN", detail: "tokens never expire", fix: "set JWT_EXPIRES_IN (e.g. 4w): a leaked token otherwise works until revoked" });
  } else {
    f.push({ status: "OK", check: "JWT_EXPIRES_IN", detail: `${c.jwt.expiresIn}` });
  }
  if (c.jwt.alg !== "HS256" && c.jwt.privateKeys.length === 0 && shared) {
    f.push({ status: "WARN", check: "GATEHOUSE_JWT_PRIVATE_KEYS", detail: `${c.jwt.alg} with keys generated into each instance's data dir`, fix: "give every instance the same GATEHOUSE_JWT_PRIVATE_KEYS, or share GATEHOUSE_DATA_DIR, or tokens from one instance fail on another" });
  }
  if (!shared) f.push({ status: "WARN", check: "store", detail: "in-memory store: revocations, rate limits and WebSocket delivery stay inside one process", fix: "set REDIS_URL before running more than one instance" });
  if (c.openai.baseUrls.length === 0) f.push({ status: "WARN", check: "OPENAI_API_BASE_URL", detail: "no upstream: the chat gateway answers 503", fix: "set OPENAI_API_BASE_URL (and OPENAI_API_KEY) to use the gateway" });
  return f;
}
