import { presentedCredential } from "../auth/token-source.ts";
import { trustedProxyHeader } from "../auth/trusted-proxy-header.ts";
import { clientAddress } from "../net/client-address.ts";
import type { SocketSeed } from "./transport.ts";
import type { WsHub } from "./hub.ts";

/** The part of the hub a runtime adapter talks to. */
export type WsEndpoint = Pick<WsHub, "path" | "accepting" | "limits" | "trustedEmailHeader" | "trustedProxies" | "open" | "message" | "closed" | "socketio">;

/** True when `request` is a WebSocket upgrade for the hub's path. */
export function isWsUpgrade(hub: WsEndpoint, request: Request): boolean {
  return isUpgrade(request) && new URL(request.url).pathname === hub.path;
}

/** The seed for a new socket, or the response refusing the upgrade (503 while draining). */
export function acceptUpgrade(hub: WsEndpoint, request: Request): SocketSeed | Response {
  if (!hub.accepting) {
    return new Response(JSON.stringify({ detail: "Server is shutting down" }), { status: 503, headers: { "content-type": "application/json", "retry-after": "1" } });
  }
  return socketSeed(request, hub.trustedEmailHeader, hub.trustedProxies);
}

/**
 * The credential presented with a WebSocket upgrade: `Authorization: Bearer`, the `token`
 * cookie, or `?token=` (browsers cannot set headers on a WebSocket). A cookie is ignored
 * when the upgrade comes from another origin, so a third-party page cannot ride a
 * visitor's session (cross-site WebSocket hijacking); such clients authenticate with
 * `user-join` instead.
 */
export function socketSeed(request: Request, trustedEmailHeader: string | null, trustedProxies: readonly string[] = []): SocketSeed {
  // Vetted here, where the socket peer is known: only a trusted proxy may set it.
  const trustedEmail = trustedProxyHeader(request, trustedEmailHeader, trustedProxies);
  const client = clientAddress(request, trustedProxies);
  const credential = presentedCredential(request);
  if (credential && (credential.source !== "cookie" || sameOrigin(request))) return { token: credential.value, trustedEmail, client };
  const query = new URL(request.url).searchParams.get("token");
  return { token: query && query.length > 0 ? query : null, trustedEmail, client };
}

/** True when there is no Origin (non-browser client) or it names the host the request was sent to. */
export function sameOrigin(request: Request): boolean {
  const origin = request.headers.get("origin");
  if (!origin) return true;
  try {
    return new URL(origin).host === (request.headers.get("host") ?? new URL(request.url).host);
  } catch {
    return false;
  }
}

/** True for a WebSocket upgrade request (checked before the path, so plain requests pay one header read). */
export function isUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}
