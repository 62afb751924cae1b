import { ForbiddenError } from "../auth/auth-errors.ts";
import { requestSite } from "../http/request-site.ts";

/**
 * Refuses a state-changing form post that a browser did not send from one of our own pages.
 * Browsers send `Sec-Fetch-Site` on every request from a secure context (HTTPS, localhost)
 * and `Origin` on every POST; cookies are SameSite=Lax by default, but a same-site sibling
 * (another subdomain) could still post, so the origin is checked exactly.
 *
 * Accepted: only what {@link requestSite} calls `same-origin`.
 * @throws ForbiddenError (403 `{"detail": ...}`) otherwise, including when both are missing.
 */
export function assertSameOrigin(request: Request, publicOrigin: string | null = null): void {
  if (requestSite(request, publicOrigin) === "same-origin") return;
  throw new ForbiddenError("Cross-site form submission refused: post from a Gatehouse page", "ERR_CSRF");
}

/** The pages' form posts (`/auth/...`, `/account/...`): they check their origin themselves, with {@link assertSameOrigin}. */
export function checksOwnOrigin(pathname: string): boolean {
  return pathname.startsWith("/auth/") || pathname.startsWith("/account/");
}
