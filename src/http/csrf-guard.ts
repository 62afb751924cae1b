import type { FetchHandler } from "./request-accounting.ts";
import { detail } from "./error-handler.ts";
import { presentedCredential } from "../auth/token-source.ts";
import { requestSite } from "./request-site.ts";

/** What the guard needs to know about the deployment. */
export interface CsrfGuardOptions {
  /** `WEBUI_URL`'s origin: also counts as same-origin (proxies that rewrite Host). */
  publicOrigin: string | null;
  /** Paths that check their own origin (the server-rendered pages' form posts). */
  ownCheck: (pathname: string) => boolean;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
const LOGIN = new Set(["/api/v1/auths/signin", "/api/v1/auths/signup", "/api/v1/auths/ldap"]);
const SIGNOUT = "/api/v1/auths/signout";

/**
 * The one CSRF guard for every route, in front of the app:
 * - a request authenticated by the `token` **cookie** with an unsafe method needs
 *   `Content-Type: application/json` (a cross-site form or `fetch` without CORS cannot send
 *   it) and a same-origin proof (`Sec-Fetch-Site: same-origin|none`, or an Origin equal to
 *   ours or `WEBUI_URL`'s); `Authorization: Bearer` and `x-api-key` requests are exempt,
 *   since no other site can make a browser attach those;
 * - sign-in and sign-up (login CSRF) take JSON only, and are refused when the browser says
 *   the request is cross-site (`Sec-Fetch-Site: cross-site|same-site`, or a foreign Origin);
 * - `GET /api/v1/auths/signout` is refused when cross-site (Open WebUI's frontend calls it
 *   with a same-origin fetch).
 * Refusals are 403 (origin) or 415 (content type) with `{"detail"}`.
 */
export function withCsrfGuard(fetch: FetchHandler, opts: CsrfGuardOptions): FetchHandler {
  return (request) => {
    const refusal = csrfRefusal(request, opts);
    return refusal ?? fetch(request);
  };
}

function csrfRefusal(request: Request, opts: CsrfGuardOptions): Response | null {
  const method = request.method;
  if (SAFE.has(method)) {
    // The hot path (forward auth, reads): no URL parsing unless it may be the sign-out route.
    if (method !== "GET" || !request.url.includes(SIGNOUT)) return null;
    if (routePath(request) === SIGNOUT && requestSite(request, opts.publicOrigin) === "cross-site") {
      return detail(403, "Cross-site sign-out refused", [["vary", "Origin, Sec-Fetch-Site"]]);
    }
    return null;
  }
  const pathname = routePath(request);
  if (opts.ownCheck(pathname)) return null;
  const site = requestSite(request, opts.publicOrigin);
  if (LOGIN.has(pathname)) {
    if (site === "cross-site") return detail(403, "Cross-site sign-in refused", [["vary", "Origin, Sec-Fetch-Site"]]);
    if (!isJson(request)) return detail(415, "Send the body as application/json");
  }
  if (presentedCredential(request)?.source !== "cookie") return null;
  if (!isJson(request)) return detail(415, "Requests authenticated by cookie must be sent as application/json (or use Authorization: Bearer)");
  if (site !== "same-origin" && site !== "none") {
    return detail(403, "Cross-site request refused: requests authenticated by cookie must come from this site (Origin or Sec-Fetch-Site)");
  }
  return null;
}

/** The path as the router matches it: Elysia also serves `/signin/` as `/signin`. */
function routePath(request: Request): string {
  const path = new URL(request.url).pathname;
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** True for `application/json` (any parameters, any case). */
function isJson(request: Request): boolean {
  const type = request.headers.get("content-type");
  return type !== null && type.split(";")[0]!.trim().toLowerCase() === "application/json";
}
