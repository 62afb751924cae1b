import { COOKIE_TOKEN, readCookie } from "./cookies.ts";

/** Where a credential came from. */
export type CredentialSource = "bearer" | "cookie" | "x-api-key";

/** A presented credential: a session JWT or an `sk-` API key. */
export interface PresentedCredential {
  value: string;
  source: CredentialSource;
  isApiKey: boolean;
}

/**
 * The credential of a request, in Open WebUI's order: `Authorization: Bearer`, then the
 * `token` cookie, then `x-api-key`.
 */
export function presentedCredential(request: Request): PresentedCredential | null {
  const auth = request.headers.get("authorization");
  if (auth !== null && auth.length > 7 && (auth.startsWith("Bearer ") || auth.slice(0, 7).toLowerCase() === "bearer ")) {
    const value = auth.indexOf(" ", 7) === -1 ? auth.slice(7) : auth.slice(7).trim();
    if (value !== "" && value.indexOf(" ") === -1) return make(value, "bearer");
  }
  const cookie = readCookie(request.headers.get("cookie"), COOKIE_TOKEN);
  if (cookie) return make(cookie, "cookie");
  const key = request.headers.get("x-api-key");
  if (key) return make(key.trim(), "x-api-key");
  return null;
}

function make(value: string, source: CredentialSource): PresentedCredential {
  return { value, source, isApiKey: value.startsWith("sk-") };
}
