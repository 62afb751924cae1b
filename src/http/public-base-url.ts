import type { Config } from "../config/config.ts";
import { BadRequestError } from "../auth/auth-errors.ts";
import { forwardedProto } from "../net/client-address.ts";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * The scheme and host absolute URLs (OAuth `redirect_uri`, MCP callbacks) are built from:
 * `WEBUI_URL`'s origin when set; otherwise the request's Host, but only when it matches
 * `GATEHOUSE_ALLOWED_HOSTS` (exact host, host:port, or `*.suffix`) — with an empty list,
 * only loopback hosts — and the scheme a trusted proxy reports in `X-Forwarded-Proto`.
 * A client-chosen Host therefore never ends up in a URL sent to a provider.
 * @throws BadRequestError (400 `{"detail"}`) for a Host that is not allowed.
 */
export function publicBaseUrl(request: Request, server: Config["server"]): string {
  if (server.publicUrl !== null) return new URL(server.publicUrl).origin;
  const url = new URL(request.url);
  const host = (request.headers.get("host") ?? url.host).toLowerCase();
  if (!hostAllowed(host, server.allowedHosts)) {
    throw new BadRequestError("Host not allowed: set WEBUI_URL or list this host in GATEHOUSE_ALLOWED_HOSTS", "ERR_HOST_NOT_ALLOWED");
  }
  const proto = forwardedProto(request, server.trustedProxies);
  const scheme = proto === "https" || proto === "http" ? proto : url.protocol.slice(0, -1);
  return `${scheme}://${host}`;
}

/** True when `host` (as in the Host header, maybe with a port) is allowed. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/.test(host)) return false;
  const name = host.replace(/:\d+$/, "");
  if (allowed.length === 0) return LOOPBACK.has(name);
  return allowed.some((a) => a === host || a === name || (a.startsWith("*.") && name.endsWith(a.slice(1))));
}
