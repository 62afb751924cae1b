/**
 * Where a browser says a request comes from, from `Sec-Fetch-Site` and `Origin`:
 * - `same-origin`: `Sec-Fetch-Site: same-origin`, or an `Origin` whose host is the request's
 *   `Host` (what the browser addressed, also behind a proxy that keeps the Host header) or
 *   that equals `publicOrigin` (`WEBUI_URL`'s origin, for proxies that rewrite Host);
 * - `cross-site`: `Sec-Fetch-Site: cross-site|same-site`, or any other `Origin` (`null` included);
 * - `none`: `Sec-Fetch-Site: none` without an Origin (typed in the address bar, a bookmark);
 * - `unknown`: neither header (not a browser, or a very old one).
 */
export type RequestSite = "same-origin" | "cross-site" | "none" | "unknown";

/** Classifies `request` (see {@link RequestSite}). */
export function requestSite(request: Request, publicOrigin: string | null): RequestSite {
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin") return "same-origin";
  if (site === "cross-site" || site === "same-site") return "cross-site";
  const origin = request.headers.get("origin");
  if (origin !== null) {
    if (origin === "null") return "cross-site";
    const host = request.headers.get("host") ?? new URL(request.url).host;
    return URL.parse(origin)?.host === host || origin === publicOrigin ? "same-origin" : "cross-site";
  }
  return site === "none" ? "none" : "unknown";
}

/** The origin of `WEBUI_URL`, or null. */
export function publicOriginOf(publicUrl: string | null): string | null {
  return publicUrl === null ? null : new URL(publicUrl).origin;
}
