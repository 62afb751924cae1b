/**
 * `GATEHOUSE_TRUSTED_PROXIES`: addresses and CIDR ranges (IPv4 and IPv6) of the reverse
 * proxies whose forwarding headers Gatehouse believes, or `*` for "whatever connects to us
 * is a proxy". `*` vouches for the socket peer only, never for hops named inside
 * `X-Forwarded-For`: those are written by whoever sent the request and could be anything.
 */
export interface TrustedProxies {
  /** True when `*` was given: every socket peer is a proxy. */
  readonly anyPeer: boolean;
  readonly ranges: readonly AddressRange[];
}

/** One address (prefix = its full length) or CIDR range, as bytes. */
interface AddressRange {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** Parses the list; null names the first entry that is neither an address, a CIDR range nor `*`. */
export function parseTrustedProxies(entries: readonly string[]): TrustedProxies | { invalid: string } {
  let anyPeer = false;
  const ranges: AddressRange[] = [];
  for (const entry of entries) {
    if (entry === "*") {
      anyPeer = true;
      continue;
    }
    const [addr, bits, extra] = entry.split("/");
    const bytes = addressBytes(addr ?? "");
    if (!bytes || extra !== undefined) return { invalid: entry };
    const max = bytes.length * 8;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
    if (prefix < 0 || prefix > max) return { invalid: entry };
    ranges.push({ bytes, prefix });
  }
  return { anyPeer, ranges };
}

/** True when `address` is one of the listed proxies (explicit entries only; `*` is about peers). */
export function isListedProxy(address: string, proxies: TrustedProxies): boolean {
  if (proxies.ranges.length === 0) return false;
  const bytes = addressBytes(address);
  if (!bytes) return false;
  return proxies.ranges.some((r) => r.bytes.length === bytes.length && prefixMatches(r.bytes, bytes, r.prefix));
}

/** True when a socket peer at `address` is a trusted proxy (`*` or a listed entry). */
export function isTrustedPeer(address: string, proxies: TrustedProxies): boolean {
  if (address === "unknown" || address === "") return false;
  return proxies.anyPeer || isListedProxy(address, proxies);
}

function prefixMatches(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

/**
 * The bytes of an IPv4 (4) or IPv6 (16) address; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is
 * returned as IPv4, so either spelling of a peer matches either spelling of an entry.
 */
export function addressBytes(text: string): Uint8Array | null {
  const s = text.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = ipv4(s);
  if (v4) return v4;
  const v6 = ipv6(s);
  if (!v6) return null;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

function ipv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i]!)) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function ipv6(s: string): Uint8Array | null {
  if (!s.includes(":")) return null;
  let tail: Uint8Array | null = null;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tail = ipv4(s.slice(lastColon + 1));
    if (!tail) return null;
    text = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0 || (halves.length === 2 && missing < 1)) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-f]{1,4}$/i.test(all[i]!)) return null;
    const n = parseInt(all[i]!, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}
