/** An entry as ldapts returns it: `dn` plus attributes (names as the server spells them). */
export type RawEntry = Record<string, unknown> & { dn: string };

/** Every string value of `attribute` (looked up case-insensitively, as LDAP names are). */
export function values(entry: RawEntry, attribute: string): string[] {
  const want = attribute.toLowerCase();
  for (const [name, v] of Object.entries(entry)) {
    if (name.toLowerCase() !== want || name === "dn") continue;
    const list = Array.isArray(v) ? v : [v];
    return list.map((x) => (typeof x === "string" ? x : x instanceof Uint8Array ? new TextDecoder().decode(x) : String(x)));
  }
  return [];
}

/** Splits a DN into RDNs at unescaped commas. */
function rdns(dn: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i]!;
    if (ch === "\\" && i + 1 < dn.length) {
      cur += ch + dn[++i];
    } else if (ch === ",") {
      out.push(cur.trim());
      cur = "";
    } else {
      cur += ch;
    }
  }
  if (cur.trim() !== "") out.push(cur.trim());
  return out;
}

/** RFC 4514 value unescaping: `\,` and friends, and `\XX` hex pairs (UTF-8 bytes). */
function unescapeRdnValue(v: string): string {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    if (ch === "\\" && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch === "\\" && i + 1 < v.length) {
      bytes.push(...enc.encode(v[++i]!));
    } else {
      bytes.push(...enc.encode(ch));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * Group names from the groups attribute, as Open WebUI derives them: the value of the first
 * `CN=` component of each group DN (`CN=Engineers,OU=Groups,DC=corp` → `Engineers`).
 * DNs without a CN are skipped; duplicates are dropped.
 */
export function groupNamesFromDns(dns: readonly string[]): string[] {
  const names = new Set<string>();
  for (const dn of dns) {
    for (const rdn of rdns(dn)) {
      const eq = rdn.indexOf("=");
      if (eq > 0 && rdn.slice(0, eq).trim().toLowerCase() === "cn") {
        const name = unescapeRdnValue(rdn.slice(eq + 1).trim());
        if (name !== "") names.add(name);
        break;
      }
    }
  }
  return [...names];
}
