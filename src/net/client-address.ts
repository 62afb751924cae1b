import { isListedProxy, isTrustedPeer, parseTrustedProxies, type TrustedProxies } from "./trusted-proxies.ts";

/**
 * The peer address of each request, recorded by the runtime adapter (only it sees the
 * socket), and the client address derived from it: X-Forwarded-For is believed only when
 * the peer is one of `GATEHOUSE_TRUSTED_PROXIES`.
 */
// Kept on the request under a private symbol: a property store is ≈ 0.1 µs cheaper per
// request than a WeakMap entry (bench/results/request-path-profile.md), and like a WeakMap
// entry it lives exactly as long as the request.
const PEER = Symbol("gatehouse.peer");
type WithPeer = Request & { [PEER]?: string | PeerSource };

/** What can tell a request's socket peer on demand (Bun's server). */
export interface PeerSource {
  requestIP(request: Request): { address: string } | null;
}

/** Called by the runtime adapter for every request. */
export function recordPeerAddress(request: Request, address: string | undefined): void {
  if (address) (request as WithPeer)[PEER] = address;
}

/**
 * Like {@link recordPeerAddress}, but the address is looked up only if something asks for it
 * (most requests never do; the lookup was ≈ 6% of the event loop's time on the open route).
 * Ask while the request is in flight.
 */
export function recordPeerSource(request: Request, source: PeerSource): void {
  (request as WithPeer)[PEER] = source;
}

/** The socket peer, or "unknown" (e.g. requests made in-process by tests). */
export function peerAddress(request: Request): string {
  const peer = (request as WithPeer)[PEER];
  if (peer === undefined || typeof peer === "string") return peer ?? "unknown";
  const address = peer.requestIP(request)?.address;
  if (!address) return "unknown";
  (request as WithPeer)[PEER] = address;
  return address;
}

/**
 * True when the request's **socket peer** (never a forwarding header) is a trusted proxy,
 * so headers that proxy sets (trusted email/name/groups, X-Forwarded-*) may be believed.
 * The one place this decision is made.
 */
export function fromTrustedProxy(request: Request, trustedProxies: readonly string[]): boolean {
  return trustedProxies.length > 0 && isTrustedPeer(peerAddress(request), parsed(trustedProxies));
}

/**
 * The client's address: the peer, or — when the peer is a trusted proxy — X-Forwarded-For
 * walked from the right, stopping at the first hop that is not a listed proxy. The left-most
 * entry is believed only when every hop to its right is a listed proxy (`*` vouches for the
 * peer alone), so a client cannot choose its own address by prepending one.
 */
export function clientAddress(request: Request, trustedProxies: readonly string[]): string {
  const peer = peerAddress(request);
  if (!fromTrustedProxy(request, trustedProxies)) return peer;
  const proxies = parsed(trustedProxies);
  const chain = (request.headers.get("x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (let i = chain.length - 1; i >= 0; i--) {
    if (i === 0 || !isListedProxy(chain[i]!, proxies)) return chain[i]!;
  }
  return peer;
}

/** `X-Forwarded-Proto` when a trusted proxy set it, else null (a client's own is ignored). */
export function forwardedProto(request: Request, trustedProxies: readonly string[]): string | null {
  if (!fromTrustedProxy(request, trustedProxies)) return null;
  // A chain of proxies appends; the last value is the nearest proxy's.
  const v = request.headers.get("x-forwarded-proto")?.split(",").at(-1)?.trim().toLowerCase();
  return v || null;
}

const cache = new WeakMap<readonly string[], TrustedProxies>();

/** The parsed list (the config's array is frozen, so it is parsed once). Config validated it at boot. */
function parsed(list: readonly string[]): TrustedProxies {
  let p = cache.get(list);
  if (!p) {
    const r = parseTrustedProxies(list);
    p = "invalid" in r ? { anyPeer: false, ranges: [] } : r;
    cache.set(list, p);
  }
  return p;
}
