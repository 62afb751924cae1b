import type { Role } from "../db/repos/users.ts";

/** Role-management settings (`ENABLE_OAUTH_ROLE_MANAGEMENT` and friends). */
export interface RoleMappingSettings {
  rolesClaim: string;
  allowedRoles: readonly string[];
  adminRoles: readonly string[];
}

/** The value at a dotted path (`realm_access.roles`) of untrusted claims, or undefined. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let v: unknown = claims;
  for (const part of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** The provider roles as strings: an array claim, or a comma/space separated string. */
export function providerRoles(claims: Record<string, unknown>, path: string): string[] {
  const v = claimAt(claims, path);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (typeof v === "string") return v.split(/[,\s]+/).filter((x) => x !== "");
  return [];
}

/** As Open WebUI: admin if any admin role, else user if any allowed role, else pending. */
export function mapRole(claims: Record<string, unknown>, s: RoleMappingSettings): Role {
  const roles = providerRoles(claims, s.rolesClaim);
  if (roles.some((r) => s.adminRoles.includes(r))) return "admin";
  if (roles.some((r) => s.allowedRoles.includes(r))) return "user";
  return "pending";
}
