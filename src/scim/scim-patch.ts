import { invalidValue, ScimError } from "./scim-error.ts";

/** One PATCH operation (RFC 7644 §3.5.2), op lower-cased. */
export interface PatchOperation {
  op: "add" | "replace" | "remove";
  path: string | null;
  value: unknown;
}

const MAX_OPERATIONS = 1000;

/** Validates a PatchOp body: `Operations` a non-empty array of `{op, path?, value?}` with op add/replace/remove (any case, as Entra ID sends "Replace"). */
export function parsePatch(body: Record<string, unknown>): PatchOperation[] {
  const ops = body["Operations"] ?? body["operations"];
  if (!Array.isArray(ops) || ops.length === 0) throw new ScimError(400, "Operations must be a non-empty array", "invalidSyntax");
  if (ops.length > MAX_OPERATIONS) throw new ScimError(400, `At most ${MAX_OPERATIONS} operations per request`, "tooMany");
  return ops.map((o: unknown) => {
    if (typeof o !== "object" || o === null || Array.isArray(o)) throw new ScimError(400, "Each operation must be an object", "invalidSyntax");
    const r = o as Record<string, unknown>;
    const op = typeof r["op"] === "string" ? r["op"].toLowerCase() : "";
    if (op !== "add" && op !== "replace" && op !== "remove") throw new ScimError(400, "op must be add, replace or remove", "invalidSyntax");
    const path = r["path"];
    if (path !== undefined && path !== null && (typeof path !== "string" || path.length === 0 || path.length > 512)) throw new ScimError(400, "path must be a non-empty string", "invalidPath");
    if (op !== "remove" && r["value"] === undefined) throw new ScimError(400, `${op} needs a value`, "invalidValue");
    if (op === "remove" && (path === undefined || path === null)) throw new ScimError(400, "remove needs a path", "noTarget");
    return { op, path: (path as string | undefined) ?? null, value: r["value"] };
  });
}

/** A SCIM boolean; Entra ID sends `"True"`/`"False"` strings. */
export function scimBoolean(v: unknown, what: string): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === "true";
  throw invalidValue(`${what} must be a boolean`);
}

/** A string of 1…`max` characters (no control characters). */
export function scimString(v: unknown, what: string, max: number): string {
  if (typeof v !== "string") throw invalidValue(`${what} must be a string`);
  const t = v.trim();
  // eslint-disable-next-line no-control-regex
  if (t.length === 0 || t.length > max || /[\u0000-\u001f\u007f]/.test(t)) throw invalidValue(`${what} must be 1 to ${max} printable characters`);
  return t;
}

/** `members` values: `[{value: "<user id>"}, ...]` → ids. */
export function memberIds(v: unknown): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((m) => {
    if (typeof m !== "object" || m === null || typeof (m as { value?: unknown }).value !== "string") throw invalidValue("members must be objects with a string value");
    return scimString((m as { value: string }).value, "members.value", 255);
  });
}

/** `members[value eq "<id>"]` → the id; null for any other path. */
export function memberPathId(path: string): string | null {
  const m = /^members\[\s*value\s+eq\s+"((?:[^"\\]|\\.){1,255})"\s*\]$/i.exec(path.trim());
  if (!m) return null;
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    throw new ScimError(400, "Malformed member filter in path", "invalidPath");
  }
}
