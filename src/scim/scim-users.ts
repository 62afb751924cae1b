import type { UsersRepo } from "../db/repos/users.ts";
import type { GroupsRepo } from "../groups/groups-repo.ts";
import type { PasswordHasher } from "../auth/session-tokens.ts";
import type { ScimUsersRepo, ScimUserRow, ScimUserUpdate } from "./scim-users-repo.ts";
import type { Deprovisioner } from "./deprovision.ts";
import { ScimError, invalidValue } from "./scim-error.ts";
import { parseEqFilter, parsePaging } from "./scim-filter.ts";
import { parsePatch, scimBoolean, scimString, type PatchOperation } from "./scim-patch.ts";
import { listResponse, MAX_RESULTS, splitName, userResource } from "./scim-resources.ts";

/** What the Users endpoint works with. */
export interface ScimUsersDeps {
  scimUsers: ScimUsersRepo;
  users: UsersRepo;
  groups: GroupsRepo;
  passwords: PasswordHasher;
  deprovisioner: Deprovisioner;
  /** Every instance drops its cached copy of the user. */
  invalidateUser(id: string): Promise<void>;
}

/** What a Users write did, for the audit line. */
export interface UserWriteResult {
  resource: Record<string, unknown>;
  id: string;
  deprovisioned: boolean;
}

const MAX_EMAIL = 320;
const MAX_NAME = 255;

/** SCIM `/Users` (RFC 7644 §3) over Open WebUI's `user` rows. */
export class ScimUsers {
  constructor(private readonly d: ScimUsersDeps) {}

  async list(params: URLSearchParams, base: string): Promise<Record<string, unknown>> {
    const { startIndex, count } = parsePaging(params, MAX_RESULTS, 100);
    const filter = params.get("filter");
    if (filter !== null && filter.trim() !== "") {
      const f = parseEqFilter(filter, ["userName", "externalId", "id", "emails.value"]);
      const u = f.attribute === "externalId" ? await this.d.scimUsers.byExternalId(f.value)
        : f.attribute === "id" ? await this.d.scimUsers.byId(f.value)
        : f.attribute === "userName" ? await this.d.scimUsers.byUserName(f.value)
        : await this.d.scimUsers.byEmail(f.value);
      const matches = u ? [u] : [];
      return listResponse(matches.length, startIndex, await this.#resources(matches.slice(startIndex - 1, startIndex - 1 + count), base));
    }
    const { total, users } = await this.d.scimUsers.list(startIndex - 1, count);
    return listResponse(total, startIndex, await this.#resources(users, base));
  }

  async get(id: string, base: string): Promise<Record<string, unknown>> {
    return this.#resource(await this.#existing(id), base);
  }

  async create(body: Record<string, unknown>, base: string): Promise<UserWriteResult> {
    const input = readUser(body, true);
    if (input.externalId && (await this.d.scimUsers.byExternalId(input.externalId))) throw new ScimError(409, "A user with this externalId already exists", "uniqueness");
    if ((await this.d.scimUsers.byUserName(input.userName!)) || (await this.d.scimUsers.byEmail(input.email!))) {
      throw new ScimError(409, "A user with this userName or email already exists", "uniqueness");
    }
    const id = crypto.randomUUID();
    // Nobody knows this password: a provisioned account signs in through the identity provider.
    const passwordHash = await this.d.passwords.hash(crypto.randomUUID() + crypto.randomUUID());
    await this.d.users.insert({ id, email: input.email!, name: input.name!, role: input.active === false ? "pending" : "user", passwordHash });
    let row: ScimUserRow | null = await this.d.scimUsers.byId(id);
    if (input.active === false || input.externalId || input.userName !== input.email) {
      row = await this.d.scimUsers.update(id, { active: input.active, externalId: input.externalId, userName: input.userName });
    }
    return { resource: await this.#resource(row!, base), id, deprovisioned: false };
  }

  async replace(id: string, body: Record<string, unknown>, base: string): Promise<UserWriteResult> {
    await this.#existing(id);
    return this.#apply(id, readUser(body, false), base);
  }

  async patch(id: string, body: Record<string, unknown>, base: string): Promise<UserWriteResult> {
    const current = await this.#existing(id);
    const ops = parsePatch(body);
    const update: ScimUserUpdate = {};
    const names = { formatted: current.name, parts: splitName(current.name) };
    for (const op of ops) applyUserOp(update, names, op);
    return this.#apply(id, update, base);
  }

  async delete(id: string): Promise<void> {
    await this.#existing(id);
    await this.d.deprovisioner.endEverySession(id);
    await this.d.users.delete(id);
    await this.d.invalidateUser(id);
  }

  async #apply(id: string, update: ScimUserUpdate, base: string): Promise<UserWriteResult> {
    const others = [
      update.email === undefined ? null : await this.d.scimUsers.byEmail(update.email),
      update.userName === undefined ? null : await this.d.scimUsers.byUserName(update.userName),
    ];
    if (others.some((o) => o !== null && o.id !== id)) throw new ScimError(409, "A user with this userName or email already exists", "uniqueness");
    const row = await this.d.scimUsers.update(id, update);
    if (!row) throw new ScimError(404, `User ${id} not found`);
    const deprovisioned = update.active === false;
    if (deprovisioned) await this.d.deprovisioner.endEverySession(id);
    else await this.d.invalidateUser(id);
    return { resource: await this.#resource(row, base), id, deprovisioned };
  }

  async #existing(id: string): Promise<ScimUserRow> {
    const u = await this.d.scimUsers.byId(id);
    if (!u) throw new ScimError(404, `User ${id} not found`);
    return u;
  }

  async #resource(u: ScimUserRow, base: string): Promise<Record<string, unknown>> {
    return (await this.#resources([u], base))[0]!;
  }

  /** The users' resources with their groups read in one query (a page of 100 is not 100 checkouts). */
  async #resources(users: readonly ScimUserRow[], base: string): Promise<Array<Record<string, unknown>>> {
    const groups = await this.d.groups.forUsers(users.map((u) => u.id));
    return users.map((u) => userResource(u, this.d.scimUsers.userNameOf(u), this.d.scimUsers.externalIdOf(u), groups.get(u.id) ?? [], base));
  }
}

/** A User body (create: userName required; PUT: every field optional). */
function readUser(body: Record<string, unknown>, creating: boolean): ScimUserUpdate {
  const out: ScimUserUpdate = {};
  const userName = body["userName"];
  if (userName === undefined || userName === null) {
    if (creating) throw new ScimError(400, "userName is required", "invalidValue");
  } else out.userName = scimString(userName, "userName", MAX_EMAIL);
  if (body["emails"] !== undefined && body["emails"] !== null) {
    const e = primaryEmail(body["emails"]);
    if (e) out.email = e;
  }
  // Open WebUI: the account email is the primary email, else the userName.
  if (creating && out.email === undefined) out.email = out.userName!.toLowerCase();
  const name = nameFrom(body);
  if (name) out.name = name;
  else if (creating) out.name = out.email!.split("@")[0]!.slice(0, MAX_NAME) || out.email!;
  if (body["active"] !== undefined && body["active"] !== null) out.active = scimBoolean(body["active"], "active");
  if (body["externalId"] !== undefined && body["externalId"] !== null) out.externalId = scimString(body["externalId"], "externalId", 255);
  return out;
}

function nameFrom(body: Record<string, unknown>): string | null {
  if (body["displayName"] !== undefined && body["displayName"] !== null) return scimString(body["displayName"], "displayName", MAX_NAME);
  const n = body["name"];
  if (n === undefined || n === null) return null;
  if (typeof n !== "object" || Array.isArray(n)) throw invalidValue("name must be an object");
  const o = n as Record<string, unknown>;
  if (typeof o["formatted"] === "string" && o["formatted"].trim()) return scimString(o["formatted"], "name.formatted", MAX_NAME);
  const parts = [o["givenName"], o["familyName"]].filter((p): p is string => typeof p === "string" && p.trim() !== "");
  return parts.length > 0 ? scimString(parts.join(" "), "name", MAX_NAME) : null;
}

/** The primary (else first) email of an `emails` array. */
function primaryEmail(v: unknown): string | null {
  if (!Array.isArray(v)) throw invalidValue("emails must be an array");
  if (v.length === 0) return null;
  const entries = v.map((e) => {
    if (typeof e !== "object" || e === null || typeof (e as { value?: unknown }).value !== "string") throw invalidValue("emails must be objects with a string value");
    return e as { value: string; primary?: unknown };
  });
  const primary = entries.find((e) => e.primary !== undefined && e.primary !== null && scimBoolean(e.primary, "emails.primary")) ?? entries[0]!;
  return scimString(primary.value, "emails.value", MAX_EMAIL).toLowerCase();
}

/** Folds one PATCH operation into `update`; attributes Gatehouse does not store are ignored, as Open WebUI does. */
function applyUserOp(update: ScimUserUpdate, names: { formatted: string; parts: [string, string] }, op: PatchOperation): void {
  if (op.path === null) {
    if (typeof op.value !== "object" || op.value === null || Array.isArray(op.value)) throw invalidValue("A patch without path needs an object value");
    for (const [k, v] of Object.entries(op.value as Record<string, unknown>)) applyUserOp(update, names, { op: op.op, path: k, value: v });
    return;
  }
  const path = op.path.trim().toLowerCase();
  if (op.op === "remove") {
    if (path === "externalid") update.externalId = null;
    return;
  }
  const v = op.value;
  if (path === "active") update.active = scimBoolean(v, "active");
  else if (path === "username") update.userName = scimString(v, "userName", MAX_EMAIL);
  else if (path === "displayname" || path === "name.formatted") update.name = scimString(v, op.path, MAX_NAME);
  else if (path === "externalid") update.externalId = scimString(v, "externalId", 255);
  else if (path === "name.givenname") update.name = setPart(names, 0, scimString(v, "name.givenName", MAX_NAME));
  else if (path === "name.familyname") update.name = setPart(names, 1, scimString(v, "name.familyName", MAX_NAME));
  else if (path === "name") {
    const n = nameFrom({ name: v });
    if (n) update.name = n;
  } else if (path === "emails") {
    const e = primaryEmail(Array.isArray(v) ? v : [v]);
    if (e) update.email = e;
  } else if (/^emails\[[^\]]{1,100}\]\.value$/.test(path)) update.email = scimString(v, "emails.value", MAX_EMAIL).toLowerCase();
}

function setPart(names: { formatted: string; parts: [string, string] }, i: 0 | 1, value: string): string {
  names.parts[i] = value;
  names.formatted = names.parts.filter((p) => p !== "").join(" ");
  if (names.formatted.length > MAX_NAME) throw invalidValue("name too long");
  return names.formatted;
}
