import type { GroupRecord } from "../groups/groups-repo.ts";
import type { ScimUserRow } from "./scim-users-repo.ts";

/** Schema URNs (RFC 7643 §8.7, RFC 7644 §3). */
export const SCHEMA = {
  user: "urn:ietf:params:scim:schemas:core:2.0:User",
  group: "urn:ietf:params:scim:schemas:core:2.0:Group",
  list: "urn:ietf:params:scim:api:messages:2.0:ListResponse",
  patch: "urn:ietf:params:scim:api:messages:2.0:PatchOp",
  spc: "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
  resourceType: "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
  schema: "urn:ietf:params:scim:schemas:core:2.0:Schema",
} as const;

/** Largest page a list answers (also advertised as `filter.maxResults`). */
export const MAX_RESULTS = 200;

function iso(epochSeconds: number | null): string {
  return new Date((epochSeconds ?? 0) * 1000).toISOString();
}

/** Open WebUI's `user_to_scim`: the one email is the account email (userName too unless the client gave another); active = role ≠ pending. */
export function userResource(
  u: ScimUserRow,
  userName: string,
  externalId: string | null,
  groups: ReadonlyArray<Pick<GroupRecord, "id" | "name">>,
  base: string,
): Record<string, unknown> {
  const [given = "", family = ""] = splitName(u.name);
  const r: Record<string, unknown> = {
    schemas: [SCHEMA.user],
    id: u.id,
    userName,
    name: { formatted: u.name, givenName: given, familyName: family },
    displayName: u.name,
    emails: [{ value: u.email, type: "work", primary: true }],
    active: u.role !== "pending",
    meta: { resourceType: "User", created: iso(u.created_at), lastModified: iso(u.updated_at), location: `${base}/Users/${u.id}` },
  };
  if (externalId !== null) r["externalId"] = externalId;
  if (groups.length > 0) r["groups"] = groups.map((g) => ({ value: g.id, display: g.name, $ref: `${base}/Groups/${g.id}`, type: "direct" }));
  return r;
}

/** A group with its members (ids and names). */
export function groupResource(
  g: GroupRecord,
  members: ReadonlyArray<{ id: string; name: string }>,
  base: string,
): Record<string, unknown> {
  const r: Record<string, unknown> = {
    schemas: [SCHEMA.group],
    id: g.id,
    displayName: g.name ?? "",
    members: members.map((m) => ({ value: m.id, display: m.name, $ref: `${base}/Users/${m.id}`, type: "User" })),
    meta: { resourceType: "Group", created: iso(g.created_at), lastModified: iso(g.updated_at), location: `${base}/Groups/${g.id}` },
  };
  const ext = groupExternalId(g);
  if (ext !== null) r["externalId"] = ext;
  return r;
}

/** The SCIM externalId Gatehouse keeps in `group.meta.scim.external_id`. */
export function groupExternalId(g: Pick<GroupRecord, "meta">): string | null {
  const v = (g.meta?.["scim"] as { external_id?: unknown } | undefined)?.external_id;
  return typeof v === "string" ? v : null;
}

/** "Given Family Names" → ["Given", "Family Names"], as Open WebUI splits. */
export function splitName(name: string): [string, string] {
  const i = name.indexOf(" ");
  return i < 0 ? [name, ""] : [name.slice(0, i), name.slice(i + 1)];
}

/** A ListResponse page. */
export function listResponse(total: number, startIndex: number, resources: unknown[]): Record<string, unknown> {
  return { schemas: [SCHEMA.list], totalResults: total, itemsPerPage: resources.length, startIndex, Resources: resources };
}

/** `ServiceProviderConfig` (RFC 7643 §5): PATCH and eq filters yes; bulk, sort, etag, password change no. */
export function serviceProviderConfig(base: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA.spc],
    documentationUri: "https://datatracker.ietf.org/doc/html/rfc7644",
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [{ type: "oauthbearertoken", name: "OAuth Bearer Token", description: "Authentication with the SCIM_TOKEN bearer token", primary: true }],
    meta: { resourceType: "ServiceProviderConfig", location: `${base}/ServiceProviderConfig` },
  };
}

/** The two resource types. */
export function resourceTypes(base: string): Array<Record<string, unknown>> {
  return [
    { schemas: [SCHEMA.resourceType], id: "User", name: "User", endpoint: "/Users", schema: SCHEMA.user, meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/User` } },
    { schemas: [SCHEMA.resourceType], id: "Group", name: "Group", endpoint: "/Groups", schema: SCHEMA.group, meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/Group` } },
  ];
}

const str = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: "string", multiValued: false, required: false, caseExact: false, mutability: "readWrite", returned: "default", uniqueness: "none", ...extra });

/** The attributes Gatehouse stores, per schema. */
export function schemas(base: string): Array<Record<string, unknown>> {
  return [
    {
      schemas: [SCHEMA.schema], id: SCHEMA.user, name: "User", description: "User Account",
      attributes: [
        str("userName", { required: true, uniqueness: "server" }),
        str("externalId", { caseExact: true }),
        str("displayName"),
        { name: "name", type: "complex", multiValued: false, required: false, subAttributes: [str("formatted"), str("givenName"), str("familyName")] },
        { name: "emails", type: "complex", multiValued: true, required: false, subAttributes: [str("value"), str("type"), { name: "primary", type: "boolean" }] },
        { name: "active", type: "boolean", multiValued: false, required: false, mutability: "readWrite", returned: "default" },
        { name: "groups", type: "complex", multiValued: true, required: false, mutability: "readOnly", subAttributes: [str("value"), str("display")] },
      ],
      meta: { resourceType: "Schema", location: `${base}/Schemas/${SCHEMA.user}` },
    },
    {
      schemas: [SCHEMA.schema], id: SCHEMA.group, name: "Group", description: "Group",
      attributes: [
        str("displayName", { required: true }),
        str("externalId", { caseExact: true }),
        { name: "members", type: "complex", multiValued: true, required: false, subAttributes: [str("value", { caseExact: true }), str("display")] },
      ],
      meta: { resourceType: "Schema", location: `${base}/Schemas/${SCHEMA.group}` },
    },
  ];
}
