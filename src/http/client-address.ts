/**
 * The peer address of each request, recorded by the runtime adapter (only it sees the
 * socket), and the client address derived from it: X-Forwarded-For is believed only when
 * the peer is one of `GATEHOUSE_TRUSTED_PROXIES`.
 */
const peers = new WeakMap<Request, string>();

/** Called by the runtime adapter for every request. */
export function recordPeerAddress(request: Request, address: string | undefined): void {
  if (address) peers.set(request, address);
}

/** The socket peer, or "unknown" (e.g. requests made in-process by tests). */
export function peerAddress(request: Request): string {
  return peers.get(request) ?? "unknown";
}

/**
 * The client's address: the peer, or — when the peer is a trusted proxy — the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy.
 */
export function clientAddress(request: Request, trustedProxies: readonly string[]): string {
  const peer = peerAddress(request);
  if (trustedProxies.length === 0 || !isTrusted(peer, trustedProxies)) return peer;
  const chain = (request.headers.get("x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!isTrusted(chain[i]!, trustedProxies)) return chain[i]!;
  }
  return chain[0] ?? peer;
}

/** Whether the socket peer is one of `GATEHOUSE_TRUSTED_PROXIES` (never, when none are configured). */
export function isTrustedPeer(request: Request, trustedProxies: readonly string[]): boolean {
  return trustedProxies.length > 0 && isTrusted(peerAddress(request), trustedProxies);
}

function isTrusted(address: string, trusted: readonly string[]): boolean {
  const a = normalise(address);
  return trusted.some((t) => t === "*" || normalise(t) === a);
}

function normalise(a: string): string {
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}
