import { ForbiddenError } from "../auth/auth-errors.ts";

/**
 * Refuses a state-changing form post that a browser did not send from one of our own pages.
 * Browsers send `Sec-Fetch-Site` on every request from a secure context (HTTPS, localhost)
 * and `Origin` on every POST; cookies are SameSite=Lax by default, but a same-site sibling
 * (another subdomain) could still post, so the origin is checked exactly.
 *
 * Accepted: `Sec-Fetch-Site: same-origin`, or an `Origin` whose host equals the request's
 * `Host` (what the browser addressed, also behind a proxy that keeps the Host header), or
 * that equals `publicOrigin` (`WEBUI_URL`, for proxies that rewrite the Host header).
 * @throws ForbiddenError (403 `{"detail": ...}`) otherwise, including when both are missing.
 */
export function assertSameOrigin(request: Request, publicOrigin: string | null = null): void {
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin") return;
  const origin = request.headers.get("origin");
  const host = request.headers.get("host") ?? new URL(request.url).host;
  if (site === null || site === "none") {
    if (origin !== null && origin !== "null" && (URL.parse(origin)?.host === host || origin === publicOrigin)) return;
  }
  throw new ForbiddenError("Cross-site form submission refused: post from a Gatehouse page", "ERR_CSRF");
}
