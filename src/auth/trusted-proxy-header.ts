import type { AuditTrail } from "../observability/audit-trail.ts";
import { fromTrustedProxy, peerAddress } from "../net/client-address.ts";

/**
 * The value of a header only a trusted proxy may set (email, name, groups): believed only
 * when the socket peer is one of `GATEHOUSE_TRUSTED_PROXIES`. Sent by anyone else it is
 * ignored (null) and an audit line says so.
 */
export function trustedProxyHeader(request: Request, header: string | null, trustedProxies: readonly string[], audit?: AuditTrail): string | null {
  if (!header) return null;
  const value = request.headers.get(header);
  if (value === null) return null;
  if (fromTrustedProxy(request, trustedProxies)) return value;
  audit?.record("signin", "refused", { reason: "ERR_TRUSTED_HEADER_UNTRUSTED_PEER", header, peer: peerAddress(request) });
  return null;
}
