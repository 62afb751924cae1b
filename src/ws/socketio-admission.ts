import { COOKIE_TOKEN, readCookie } from "../auth/cookies.ts";
import { trustedProxyHeader } from "../auth/trusted-proxy-header.ts";
import type { SocketIoConfig } from "../config/config.ts";
import { clientAddress } from "../net/client-address.ts";
import type { WsHub } from "./hub.ts";
import { CLOSE } from "./protocol.ts";
import type { SocketSeed } from "./transport.ts";
import { sameOrigin } from "./upgrade.ts";

/** A Socket.IO handshake refused before a socket exists: the client gets `connect_error` with `data.code`. */
export class SocketIoRefusal extends Error {
  readonly data: { code: number };
  constructor(message: string, readonly code: number) {
    super(message);
    this.data = { code };
  }
}

/**
 * What a Socket.IO handshake's HTTP request says about its client, read when Engine.IO
 * opens the session (the only moment the request with its peer address is at hand); the
 * request itself, with its cookies, is not kept.
 */
export interface HandshakeFacts {
  /** The trusted email header: only from a trusted proxy peer, else null (as on `/ws`). */
  trustedEmail: string | null;
  /** The peer, or X-Forwarded-For when the peer is a trusted proxy. */
  client: string;
  /** The `token` cookie came from an Origin neither this host nor listed in `CORS_ALLOW_ORIGIN`. */
  crossSiteCookie: boolean;
}

/**
 * Reads {@link HandshakeFacts} from the Engine.IO handshake request (its peer was recorded by
 * the runtime adapter). `*` in `CORS_ALLOW_ORIGIN` does not vouch for a request carrying the
 * cookie, as in CORS, where `*` never covers credentialed requests.
 */
export function handshakeFacts(hub: WsHub, config: SocketIoConfig, request: Request): HandshakeFacts {
  const origin = request.headers.get("origin");
  const cookie = readCookie(request.headers.get("cookie"), COOKIE_TOKEN);
  return {
    trustedEmail: trustedProxyHeader(request, hub.trustedEmailHeader, hub.trustedProxies),
    client: clientAddress(request, hub.trustedProxies),
    crossSiteCookie: Boolean(cookie) && !sameOrigin(request) && !(origin !== null && config.corsOrigins.includes(origin)),
  };
}

/**
 * Admits a Socket.IO socket under the rules raw `/ws` upgrades follow (src/ws/upgrade.ts):
 * a socket without `auth.token` takes a slot of the anonymous caps shared with `/ws` (the
 * returned seed carries it: hand it to `hub.open`, or give it back with
 * `hub.releaseAnonymous` if the socket never opens), and one that brings only the `token`
 * cookie from another site is refused, so a third-party page cannot ride a visitor's session.
 *
 * @throws SocketIoRefusal (`connect_error` 1008 cross-site cookie, 1013 caps reached)
 */
export function admitSocket(hub: WsHub, facts: HandshakeFacts, token: string | null): SocketSeed {
  const { trustedEmail, client } = facts;
  if (token !== null) return { token: null, trustedEmail, client };
  if (facts.crossSiteCookie) {
    hub.metrics.authFailures.inc({ reason: "cross_site_cookie", transport: "socketio" });
    throw new SocketIoRefusal("Origin not allowed", CLOSE.POLICY);
  }
  if (!hub.reserveAnonymous(client, "socketio")) throw new SocketIoRefusal("Too many unauthenticated sockets", CLOSE.TRY_LATER);
  return { token: null, trustedEmail, client, anonymousReserved: true };
}
