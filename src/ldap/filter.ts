/**
 * RFC 4515 escaping of an assertion value: `*`, `(`, `)`, `\` and NUL must be written as
 * `\XX`; other control characters are escaped too, so nothing the user types can end the
 * value, start a new component or become a wildcard.
 */
export function escapeFilterValue(value: string): string {
  let out = "";
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    out += c === 0x2a || c === 0x28 || c === 0x29 || c === 0x5c || c < 0x20 || c === 0x7f ? `\\${c.toString(16).padStart(2, "0")}` : ch;
  }
  return out;
}

/**
 * The search filter for one sign-in: `(&(<attribute>=<escaped user>)<operator filter>)`.
 * The attribute and the operator's filter come from the validated configuration; only the
 * user's value is untrusted, and it is escaped.
 */
export function userSearchFilter(attribute: string, user: string, operatorFilter: string): string {
  return `(&(${attribute}=${escapeFilterValue(user)})${operatorFilter})`;
}
