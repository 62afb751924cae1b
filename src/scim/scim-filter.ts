import { ScimError } from "./scim-error.ts";

/** A parsed `attr eq "value"` filter (the only form Gatehouse evaluates). */
export interface EqFilter {
  /** The attribute, in the canonical case of `allowed`. */
  attribute: string;
  value: string;
}

const MAX_FILTER_LENGTH = 1024;
// attrPath SP "eq" SP compValue, with compValue a JSON string (RFC 7644 §3.4.2.2).
// Entra ID looks users up by their work email this way; it means `emails.value` here (one email per user).
const WORK_EMAIL = /^\s*emails\[\s*type\s+eq\s+"work"\s*\]\.value(?=\s)/i;
const EQ = /^\s*([A-Za-z][\w.:-]*)\s+eq\s+("(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")\s*$/i;

/**
 * Parses `filter` as `<attribute> eq "<value>"` for one of `allowed` (matched
 * case-insensitively, as RFC 7643 attribute names are). Anything else — other operators,
 * `and`/`or`, unknown attributes, unquoted values, over-long filters — is a 400
 * `invalidFilter`, never a guess.
 */
export function parseEqFilter(filter: string, allowed: readonly string[]): EqFilter {
  if (filter.length > MAX_FILTER_LENGTH) throw new ScimError(400, `Filter longer than ${MAX_FILTER_LENGTH} characters`, "invalidFilter");
  const m = EQ.exec(filter.replace(WORK_EMAIL, "emails.value"));
  if (!m) throw new ScimError(400, `Unsupported filter: only '<attribute> eq "<value>"' on ${allowed.join(", ")} is supported`, "invalidFilter");
  const attribute = allowed.find((a) => a.toLowerCase() === m[1]!.toLowerCase());
  if (!attribute) throw new ScimError(400, `Unsupported filter attribute; supported: ${allowed.join(", ")}`, "invalidFilter");
  let value: unknown;
  try {
    value = JSON.parse(m[2]!);
  } catch {
    throw new ScimError(400, "Filter value is not a valid string", "invalidFilter");
  }
  return { attribute, value: value as string };
}

/** SCIM pagination: 1-based `startIndex` (below 1 → 1), `count` clamped to 0…`max` (RFC 7644 §3.4.2.4). */
export function parsePaging(params: URLSearchParams, max: number, fallbackCount: number): { startIndex: number; count: number } {
  const int = (name: string, fallback: number) => {
    const v = params.get(name);
    if (v === null || v === "") return fallback;
    if (!/^-?\d{1,9}$/.test(v.trim())) throw new ScimError(400, `${name} must be an integer`, "invalidValue");
    return Number(v.trim());
  };
  return { startIndex: Math.max(1, int("startIndex", 1)), count: Math.min(max, Math.max(0, int("count", fallbackCount))) };
}
