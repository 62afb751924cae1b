/**
 * The first key that occurs twice in one object of `json` (at any depth), or null. `JSON.parse`
 * silently keeps the last of duplicate keys while other parsers keep the first, so a body with
 * duplicates can mean one thing to the gateway and another to the upstream.
 *
 * `json` must already have been accepted by `JSON.parse`: this walks it once, in time linear
 * in its length and memory bounded by it, without validating it again.
 */
export function duplicateKey(json: string): string | null {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json.charCodeAt(i);
    if (ch === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; json.charCodeAt(i) !== QUOTE; i++) {
        if (json.charCodeAt(i) === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      const keys = open.at(-1);
      if (expectKey && keys) {
        // Escapes decoded, so `"\u006dodel"` is the key `model`.
        const key = escaped ? (JSON.parse(json.slice(start, i + 1)) as string) : json.slice(start + 1, i);
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
    } else if (ch === OPEN_BRACE) {
      open.push(new Set());
      expectKey = true;
    } else if (ch === OPEN_BRACKET) {
      open.push(null);
      expectKey = false;
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      open.pop();
      expectKey = false;
    } else if (ch === COMMA) {
      expectKey = open.at(-1) instanceof Set;
    }
  }
  return null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
