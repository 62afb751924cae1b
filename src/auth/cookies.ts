import type { SameSite } from "../config/config.ts";

/** Cookies Gatehouse sets, as Open WebUI names them. */
export const COOKIE_TOKEN = "token";
export const COOKIE_OAUTH_SESSION = "oauth_session_id";
export const COOKIE_OAUTH_ID_TOKEN = "oauth_id_token";

/** Attributes shared by every auth cookie; deletion must repeat them or browsers keep the cookie. */
export interface CookiePolicy {
  sameSite: SameSite;
  secure: boolean;
}

/** Options for one cookie. */
export interface CookieSpec {
  httpOnly: boolean;
  /** Unix seconds; omitted = session cookie. */
  expiresAt?: number | null;
}

/**
 * A `Set-Cookie` value with Path=/, the policy's SameSite/Secure, and, when `expiresAt`
 * is given, both `Expires` and `Max-Age` (the token's remaining lifetime).
 */
export function setCookie(name: string, value: string, policy: CookiePolicy, spec: CookieSpec, nowSeconds = Date.now() / 1000): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, "Path=/"];
  if (spec.expiresAt != null) {
    const maxAge = Math.max(0, spec.expiresAt - Math.floor(nowSeconds));
    parts.push(`Expires=${new Date(spec.expiresAt * 1000).toUTCString()}`, `Max-Age=${maxAge}`);
  }
  if (spec.httpOnly) parts.push("HttpOnly");
  parts.push(`SameSite=${capitalise(policy.sameSite)}`);
  if (policy.secure || policy.sameSite === "none") parts.push("Secure");
  return parts.join("; ");
}

/** A `Set-Cookie` that deletes `name`, repeating the attributes it was set with. */
export function deleteCookie(name: string, policy: CookiePolicy, httpOnly: boolean): string {
  const parts = [`${name}=`, "Path=/", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=0"];
  if (httpOnly) parts.push("HttpOnly");
  parts.push(`SameSite=${capitalise(policy.sameSite)}`);
  if (policy.secure || policy.sameSite === "none") parts.push("Secure");
  return parts.join("; ");
}

/** Deletions for every auth cookie (sign-out, user mismatch). */
export function deleteAuthCookies(policy: CookiePolicy): string[] {
  return [
    deleteCookie(COOKIE_TOKEN, policy, true),
    deleteCookie(COOKIE_OAUTH_SESSION, policy, true),
    deleteCookie(COOKIE_OAUTH_ID_TOKEN, policy, true),
  ];
}

/** Reads one cookie from a `Cookie` header (first occurrence wins), URL-decoded. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
