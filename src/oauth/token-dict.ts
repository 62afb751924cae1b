/**
 * The token dict stored (encrypted) in `oauth_session.token`, as Open WebUI keeps it: the
 * provider's token response plus `expires_at` and `issued_at` (Unix seconds).
 */
import { OAuthLoginError } from "./oauth-errors.ts";

/** A token dict; unknown provider fields are kept (strings, numbers, booleans only). */
export interface TokenDict {
  access_token: string;
  token_type?: string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  expires_in?: number;
  expires_at: number;
  issued_at: number;
  [extra: string]: string | number | boolean | undefined;
}

/** Tokens without `expires_in` are assumed to live this long (Open WebUI uses one hour too). */
const DEFAULT_LIFETIME_SECONDS = 3600;

/**
 * Builds the dict from an untrusted token-endpoint response, field by field; `previous`
 * supplies a refresh token the provider did not rotate.
 */
export function tokenDictFrom(response: Record<string, unknown>, nowSeconds: number, previous?: TokenDict): TokenDict {
  const access = response["access_token"];
  if (typeof access !== "string" || access === "") throw new OAuthLoginError("invalid_token_response", "token response without access_token");
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(response)) {
    if (k === "expires_at" || k === "issued_at") continue;
    if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) out[k] = v;
  }
  const expiresIn = typeof response["expires_in"] === "number" && response["expires_in"] > 0 ? Math.floor(response["expires_in"]) : DEFAULT_LIFETIME_SECONDS;
  if (typeof out["refresh_token"] !== "string" && previous?.refresh_token) out["refresh_token"] = previous.refresh_token;
  out["expires_at"] = nowSeconds + expiresIn;
  out["issued_at"] = nowSeconds;
  return out as TokenDict;
}

/** Parses a decrypted dict (JSON written by Gatehouse or Open WebUI); null when not a token dict. */
export function parseTokenDict(text: string): TokenDict | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o["access_token"] !== "string") return null;
  for (const k of ["refresh_token", "id_token", "token_type", "scope"]) {
    if (o[k] !== undefined && o[k] !== null && typeof o[k] !== "string") return null;
  }
  const expiresAt = typeof o["expires_at"] === "number" ? Math.floor(o["expires_at"]) : null;
  const issuedAt = typeof o["issued_at"] === "number" ? Math.floor(o["issued_at"]) : expiresAt !== null ? expiresAt - DEFAULT_LIFETIME_SECONDS : 0;
  if (expiresAt === null) return null;
  const dict: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(o)) if (val !== null && typeof val !== "object") dict[k] = val;
  dict["expires_at"] = expiresAt;
  dict["issued_at"] = issuedAt;
  return dict as TokenDict;
}
