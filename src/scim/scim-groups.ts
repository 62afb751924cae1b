import type { GroupRecord, GroupsRepo } from "../groups/groups-repo.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import type { MembershipsLost } from "../groups/access-loss.ts";
import type { ScimUsersRepo } from "./scim-users-repo.ts";
import { ScimError, invalidValue } from "./scim-error.ts";
import { parseEqFilter, parsePaging } from "./scim-filter.ts";
import { memberIds, memberPathId, parsePatch, scimString } from "./scim-patch.ts";
import { groupResource, listResponse, MAX_RESULTS } from "./scim-resources.ts";

const MAX_NAME = 255;

/** One change to a group, checked before any is applied. */
type GroupAction =
  | { kind: "rename"; name: string }
  | { kind: "externalId"; value: string | null }
  | { kind: "add"; ids: string[] }
  | { kind: "remove"; ids: string[] }
  | { kind: "removeAll" }
  | { kind: "set"; ids: string[] };

/** SCIM `/Groups` over Open WebUI's `group` / `group_member` tables. */
export class ScimGroups {
  constructor(
    private readonly groups: GroupsRepo,
    private readonly scimUsers: ScimUsersRepo,
    private readonly audit?: AuditTrail,
    private readonly membershipChanged: (userId: string) => Promise<void> = async () => {},
    /** Hears of groups left, after each change committed (group loss ends access). */
    private readonly lost: MembershipsLost = async () => {},
  ) {}

  async list(params: URLSearchParams, base: string): Promise<Record<string, unknown>> {
    const { startIndex, count } = parsePaging(params, MAX_RESULTS, 100);
    const bare = excludesMembers(params);
    const filter = params.get("filter");
    if (filter !== null && filter.trim() !== "") {
      const f = parseEqFilter(filter, ["displayName", "externalId", "id"]);
      const matches = f.attribute === "displayName" ? (await this.groups.list({ name: f.value })).groups
        : f.attribute === "externalId" ? await this.groups.byExternalId(f.value)
        : [await this.groups.byId(f.value)].filter((g): g is NonNullable<typeof g> => g !== null);
      const page = matches.slice(startIndex - 1, startIndex - 1 + count);
      return listResponse(matches.length, startIndex, await this.#resources(page, base, bare));
    }
    const { total, groups } = await this.groups.list({ offset: startIndex - 1, limit: count });
    return listResponse(total, startIndex, await this.#resources(groups, base, bare));
  }

  async get(id: string, params: URLSearchParams, base: string): Promise<Record<string, unknown>> {
    return this.#resource(await this.#existing(id), base, excludesMembers(params));
  }

  async create(body: Record<string, unknown>, base: string): Promise<{ resource: Record<string, unknown>; id: string }> {
    const name = scimString(body["displayName"], "displayName", MAX_NAME);
    const members = body["members"] === undefined || body["members"] === null ? [] : memberIds(body["members"]);
    const externalId = body["externalId"] === undefined || body["externalId"] === null ? null : scimString(body["externalId"], "externalId", 255);
    if ((await this.groups.list({ name, limit: 1 })).total > 0) throw new ScimError(409, "A group with this displayName already exists", "uniqueness");
    const creator = (await this.scimUsers.firstAdminId()) ?? "scim";
    let g: GroupRecord = await this.groups.create({ name, description: "", creatorId: creator, data: { config: { share: true } } });
    this.#audit("create", g.name);
    if (externalId !== null) g = (await this.groups.setExternalId(g.id, externalId)) ?? g;
    await this.#run(g, [{ kind: "add", ids: members }]);
    return { resource: await this.#resource(g, base), id: g.id };
  }

  async replace(id: string, body: Record<string, unknown>, base: string): Promise<Record<string, unknown>> {
    const g = await this.#existing(id);
    const actions: GroupAction[] = [];
    if (body["displayName"] !== undefined && body["displayName"] !== null) actions.push({ kind: "rename", name: scimString(body["displayName"], "displayName", MAX_NAME) });
    if (body["externalId"] !== undefined) actions.push({ kind: "externalId", value: body["externalId"] === null ? null : scimString(body["externalId"], "externalId", 255) });
    if (body["members"] !== undefined) actions.push({ kind: "set", ids: body["members"] === null ? [] : memberIds(body["members"]) });
    return this.#resource(await this.#run(g, actions), base);
  }

  async patch(id: string, body: Record<string, unknown>, base: string): Promise<Record<string, unknown>> {
    const g = await this.#existing(id);
    const actions = parsePatch(body).flatMap((op) => groupActions(op.op, op.path, op.value));
    return this.#resource(await this.#run(g, actions), base);
  }

  async delete(id: string): Promise<void> {
    const g = await this.#existing(id);
    const members = await this.groups.memberIds(id);
    await this.groups.delete(id);
    this.#audit("delete", g.name);
    for (const u of members) await this.membershipChanged(u);
    await this.lost(members, [g.name]);
  }

  async #run(g: GroupRecord, actions: readonly GroupAction[]): Promise<GroupRecord> {
    let current = g;
    for (const a of actions) {
      if (a.kind === "rename") {
        if (a.name !== current.name) {
          const before = current.name;
          current = (await this.groups.rename(current.id, a.name)) ?? current;
          this.#audit("rename", current.name);
          // Renaming an access group away takes access from its members as leaving it would.
          await this.lost(await this.groups.memberIds(current.id), [before]);
        }
      } else if (a.kind === "externalId") current = (await this.groups.setExternalId(current.id, a.value)) ?? current;
      else if (a.kind === "add") for (const u of await this.groups.addMembers(current.id, a.ids)) this.#audit("add_member", current.name, u);
      else if (a.kind === "remove") {
        for (const u of await this.groups.removeMembers(current.id, a.ids)) this.#audit("remove_member", current.name, u);
        // The requested ids, not only those removed now: a client retrying after an error still ends access.
        await this.lost(a.ids, [current.name]);
      } else {
        const r = a.kind === "removeAll" ? await this.groups.setMembers(current.id, []) : await this.groups.setMembers(current.id, a.ids);
        for (const u of r.added) this.#audit("add_member", current.name, u);
        for (const u of r.removed) this.#audit("remove_member", current.name, u);
        await this.lost(r.removed, [current.name]);
      }
    }
    return current;
  }

  #audit(action: string, group: string | null, userId?: string): void {
    this.audit?.record("group_change", "success", { action, group, source: "scim", ...(userId ? { userId } : {}) });
    if (userId && action !== "create") void this.membershipChanged(userId);
  }

  async #existing(id: string) {
    const g = await this.groups.byId(id);
    if (!g) throw new ScimError(404, `Group ${id} not found`);
    return g;
  }

  async #resource(g: GroupRecord, base: string, bare = false): Promise<Record<string, unknown>> {
    return (await this.#resources([g], base, bare))[0]!;
  }

  /** The groups' resources, members read in one query (or not at all with `excludedAttributes=members`). */
  async #resources(groups: readonly GroupRecord[], base: string, bare: boolean): Promise<Array<Record<string, unknown>>> {
    const members = bare ? new Map<string, Array<{ id: string; name: string }>>() : await this.groups.members(groups.map((g) => g.id));
    return groups.map((g) => {
      const r = groupResource(g, members.get(g.id) ?? [], base);
      if (bare) delete r["members"];
      return r;
    });
  }
}

/** `excludedAttributes=members` (Entra ID asks so for every group read). */
function excludesMembers(params: URLSearchParams): boolean {
  return (params.get("excludedAttributes") ?? "").split(",").some((a) => a.trim().toLowerCase() === "members");
}

/** One PATCH operation on a group → actions (Okta's and Entra ID's forms). */
function groupActions(op: "add" | "replace" | "remove", path: string | null, value: unknown): GroupAction[] {
  if (path === null) {
    // Okta renames with {"op":"replace","value":{"id":..., "displayName":...}}.
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidValue("A patch without path needs an object value");
    return Object.entries(value as Record<string, unknown>).filter(([k]) => k !== "id" && k !== "schemas").flatMap(([k, v]) => groupActions(op, k, v));
  }
  const p = path.trim().toLowerCase();
  const member = memberPathId(path);
  if (member !== null) {
    if (op !== "remove") throw new ScimError(400, "Only remove may address a single member", "invalidPath");
    return [{ kind: "remove", ids: [member] }];
  }
  if (p === "members") {
    if (op === "add") return [{ kind: "add", ids: memberIds(value) }];
    if (op === "replace") return [{ kind: "set", ids: value === null ? [] : memberIds(value) }];
    return value === undefined || value === null ? [{ kind: "removeAll" }] : [{ kind: "remove", ids: memberIds(value) }];
  }
  if (p === "displayname") {
    if (op === "remove") throw new ScimError(400, "displayName cannot be removed", "mutability");
    return [{ kind: "rename", name: scimString(value, "displayName", MAX_NAME) }];
  }
  if (p === "externalid") return [{ kind: "externalId", value: op === "remove" ? null : scimString(value, "externalId", 255) }];
  throw new ScimError(400, `Unsupported path for a group: ${path.slice(0, 100)}`, "invalidPath");
}
