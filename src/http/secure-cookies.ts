import type { FetchHandler } from "./request-accounting.ts";
import { forwardedProto } from "../net/client-address.ts";

/**
 * Marks every `Set-Cookie` `Secure` when a trusted proxy says the browser reached it over
 * HTTPS (`X-Forwarded-Proto: https`), for deployments whose cookie policy is not already
 * Secure (no https `WEBUI_URL`, no `WEBUI_AUTH_COOKIE_SECURE`). A client's own
 * X-Forwarded-Proto is ignored.
 */
export function withForwardedSecureCookies(fetch: FetchHandler, trustedProxies: readonly string[]): FetchHandler {
  if (trustedProxies.length === 0) return fetch;
  return (request) => {
    if (forwardedProto(request, trustedProxies) !== "https") return fetch(request);
    return Promise.resolve(fetch(request)).then(secureCookies);
  };
}

/** `response` with `Secure` added to each cookie lacking it (copied: some responses have immutable headers). */
function secureCookies(response: Response): Response {
  const cookies = response.headers.getSetCookie();
  if (cookies.length === 0 || cookies.every(isSecure)) return response;
  const copy = new Response(response.body, response);
  copy.headers.delete("set-cookie");
  for (const c of cookies) copy.headers.append("set-cookie", isSecure(c) ? c : `${c}; Secure`);
  return copy;
}

function isSecure(cookie: string): boolean {
  return /;\s*secure\s*(;|$)/i.test(cookie);
}
