import type { Conn, StrictPool } from "../db/pool.ts";
import { epochSeconds } from "../db/repos/users.ts";

/** A `group` row as Open WebUI v0.11 lays it out (compat/openwebui-groups-ldap.md). */
export interface GroupRecord {
  id: string;
  /** The creator (Open WebUI: the admin who made it). */
  user_id: string | null;
  name: string | null;
  description: string | null;
  data: Record<string, unknown> | null;
  meta: Record<string, unknown> | null;
  permissions: Record<string, unknown> | null;
  created_at: number | null;
  updated_at: number | null;
}

/** A group with its member count, as Open WebUI's `GroupResponse`. */
export interface GroupWithCount extends GroupRecord {
  member_count: number;
}

/** Fields of a new group. */
export interface NewGroup {
  name: string;
  description: string;
  creatorId: string;
  data?: Record<string, unknown> | null;
}

/** What a membership sync changed. */
export interface MembershipChange {
  added: string[];
  removed: string[];
  created: string[];
}

/** Inputs of {@link GroupsRepo.syncMemberships}, already normalised by the caller. */
export interface MembershipPlan {
  userId: string;
  names: readonly string[];
  create: boolean;
  isBlocked: (name: string) => boolean;
  newGroup: (name: string) => Omit<NewGroup, "name">;
}

const GROUP_COLUMNS = `g.id, g.user_id, g.name, g.description, g.data, g.meta, g.permissions, g.created_at, g.updated_at`;
const COUNT = `(select count(*) from group_member m where m.group_id = g.id)::int as member_count`;
// Serialises group creation by name across instances (no unique index on group.name in Open WebUI's schema).
const GROUP_CREATE_LOCK = 7_243_100_006;

/**
 * Open WebUI's `group` and `group_member` tables. Every method is one short checkout (or
 * one transaction); nothing waits on anything but its own queries while holding it.
 */
export class GroupsRepo {
  constructor(private readonly pool: StrictPool) {}

  byId(id: string): Promise<GroupWithCount | null> {
    return this.pool.run("group.by_id", async (c) =>
      (await c.unsafe<GroupWithCount[]>(`select ${GROUP_COLUMNS}, ${COUNT} from "group" g where g.id = $1`, [id]))[0] ?? null);
  }

  /**
   * A page of groups (oldest first), optionally only those named exactly `name`.
   * `offset` is zero-based.
   */
  list(opts: { name?: string; offset?: number; limit?: number } = {}): Promise<{ total: number; groups: GroupWithCount[] }> {
    return this.pool.run("group.list", async (c) => {
      const where = opts.name === undefined ? "" : "where g.name = $3";
      const params: unknown[] = [opts.limit ?? 10_000, opts.offset ?? 0];
      if (opts.name !== undefined) params.push(opts.name);
      const groups = await c.unsafe<GroupWithCount[]>(
        `select ${GROUP_COLUMNS}, ${COUNT} from "group" g ${where} order by g.created_at nulls first, g.id limit $1 offset $2`,
        params as string[],
      );
      const totalParams = opts.name === undefined ? [] : [opts.name];
      const [row] = await c.unsafe<{ n: number }[]>(
        `select count(*)::int as n from "group" g ${opts.name === undefined ? "" : "where g.name = $1"}`,
        totalParams,
      );
      return { total: row?.n ?? 0, groups };
    });
  }

  /** The groups `userId` belongs to, oldest first. */
  forUser(userId: string): Promise<GroupWithCount[]> {
    return this.pool.run("group.for_user", async (c) =>
      c.unsafe<GroupWithCount[]>(
        `select ${GROUP_COLUMNS}, ${COUNT} from "group" g join group_member gm on gm.group_id = g.id
          where gm.user_id = $1 order by g.created_at nulls first, g.id`,
        [userId],
      ));
  }

  /** The groups (id and name) of each of `userIds`, in one query; users in no group are absent. */
  forUsers(userIds: readonly string[]): Promise<Map<string, Array<Pick<GroupRecord, "id" | "name">>>> {
    if (userIds.length === 0) return Promise.resolve(new Map());
    return this.pool.run("group.for_users", async (c) => {
      const rows = await c<Array<{ user_id: string; id: string; name: string | null }>>`
        select gm.user_id, g.id, g.name from group_member gm join "group" g on g.id = gm.group_id
         where gm.user_id = any(${[...userIds]}) order by g.created_at nulls first, g.id`;
      const out = new Map<string, Array<Pick<GroupRecord, "id" | "name">>>();
      for (const r of rows) {
        const list = out.get(r.user_id) ?? [];
        list.push({ id: r.id, name: r.name });
        out.set(r.user_id, list);
      }
      return out;
    });
  }

  /** Ids of the members of a group. */
  memberIds(groupId: string): Promise<string[]> {
    return this.pool.run("group.members", async (c) =>
      (await c<{ user_id: string }[]>`select user_id from group_member where group_id = ${groupId} order by created_at, user_id`).map((r) => r.user_id));
  }

  /**
   * Of `userIds`, the existing non-admin users who are members of none of the groups named
   * `names` (`GATEHOUSE_ACCESS_GROUPS`), in one query.
   */
  usersOutside(userIds: readonly string[], names: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.pool.run("group.users_outside", async (c) =>
      (await c<{ id: string }[]>`
        select u.id from "user" u where u.id = any(${[...new Set(userIds)]}) and u.role <> 'admin'
           and not exists (select 1 from group_member gm join "group" g on g.id = gm.group_id
                            where gm.user_id = u.id and g.name = any(${[...names]}))`).map((r) => r.id));
  }

  /** Members (id and display name, oldest membership first) of each of `groupIds`, in one query. */
  members(groupIds: readonly string[]): Promise<Map<string, Array<{ id: string; name: string }>>> {
    if (groupIds.length === 0) return Promise.resolve(new Map());
    return this.pool.run("group.member_names", async (c) => {
      const rows = await c<Array<{ group_id: string; id: string; name: string }>>`
        select gm.group_id, u.id, u.name from group_member gm join "user" u on u.id = gm.user_id
         where gm.group_id = any(${[...groupIds]}) order by gm.created_at, u.id`;
      const out = new Map<string, Array<{ id: string; name: string }>>();
      for (const r of rows) out.set(r.group_id, [...(out.get(r.group_id) ?? []), { id: r.id, name: r.name }]);
      return out;
    });
  }

  /** Groups whose `meta.scim.external_id` is `externalId` (Gatehouse's SCIM bookkeeping). */
  byExternalId(externalId: string): Promise<GroupWithCount[]> {
    return this.pool.run("group.by_external_id", async (c) =>
      c.unsafe<GroupWithCount[]>(`select ${GROUP_COLUMNS}, ${COUNT} from "group" g where g.meta::jsonb->'scim'->>'external_id' = $1 order by g.created_at, g.id`, [externalId]));
  }

  /** Sets (string) or clears (null) `meta.scim.external_id`, keeping the rest of `meta`. */
  setExternalId(id: string, externalId: string | null): Promise<GroupRecord | null> {
    return this.pool.run("group.set_external_id", async (c) =>
      (await c.unsafe<GroupRecord[]>(
        `update "group" g set meta = (case when $2::text is null then coalesce(meta::jsonb, '{}'::jsonb) - 'scim'
                 else coalesce(meta::jsonb, '{}'::jsonb) || jsonb_build_object('scim', jsonb_build_object('external_id', $2::text)) end)::json,
                updated_at = $3
          where id = $1 returning ${GROUP_COLUMNS}`,
        [id, externalId, epochSeconds()],
      ))[0] ?? null);
  }

  create(g: NewGroup): Promise<GroupRecord> {
    return this.pool.run("group.create", (c) => insertGroup(c, g));
  }

  /** Renames a group; null when it does not exist. */
  rename(id: string, name: string): Promise<GroupRecord | null> {
    return this.pool.run("group.rename", async (c) =>
      (await c.unsafe<GroupRecord[]>(`update "group" g set name = $2, updated_at = $3 where id = $1 returning ${GROUP_COLUMNS}`, [id, name, epochSeconds()]))[0] ?? null);
  }

  /** @returns false when there was no such group. Memberships go with it (cascade). */
  delete(id: string): Promise<boolean> {
    return this.pool.run("group.delete", async (c) => (await c`delete from "group" where id = ${id}`).count > 0);
  }

  /** Adds existing users (unknown ids are ignored); returns the ids actually added. */
  addMembers(groupId: string, userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.pool.run("group.add_members", (c) => addMembers(c, groupId, userIds));
  }

  /** Removes members; returns the ids actually removed. */
  removeMembers(groupId: string, userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.pool.run("group.remove_members", (c) => removeMembers(c, groupId, userIds));
  }

  /** Makes the member list exactly `userIds` (unknown ids ignored), in one transaction. */
  setMembers(groupId: string, userIds: readonly string[]): Promise<{ added: string[]; removed: string[] }> {
    return this.pool.transaction("group.set_members", async (c) => {
      const current = (await c<{ user_id: string }[]>`select user_id from group_member where group_id = ${groupId} for update`).map((r) => r.user_id);
      const wanted = new Set(userIds);
      const removed = await removeMembers(c, groupId, current.filter((id) => !wanted.has(id)));
      const have = new Set(current);
      const added = await addMembers(c, groupId, [...wanted].filter((id) => !have.has(id)));
      return { added, removed };
    });
  }

  /**
   * Makes `userId`'s memberships match `names` in one transaction: joins the named groups
   * that exist (creating missing ones when `create`), leaves groups not named; blocked
   * names are neither joined, left nor created.
   */
  syncMemberships(plan: MembershipPlan): Promise<MembershipChange> {
    return this.pool.transaction("group.sync_user", async (c) => {
      const wanted = plan.names.filter((n) => !plan.isBlocked(n));
      if (plan.create && wanted.length > 0) await c`select pg_advisory_xact_lock(${GROUP_CREATE_LOCK})`;
      const current = await c<{ id: string; name: string | null }[]>`
        select g.id, g.name from "group" g join group_member gm on gm.group_id = g.id where gm.user_id = ${plan.userId}`;
      const existing = wanted.length === 0 ? [] : await c<{ id: string; name: string }[]>`
        select id, name from "group" where name = any(${wanted as string[]}) order by created_at nulls first, id`;
      const idByName = new Map<string, string>();
      for (const g of existing) if (!idByName.has(g.name)) idByName.set(g.name, g.id);
      const created: string[] = [];
      if (plan.create) {
        for (const name of wanted) {
          if (idByName.has(name)) continue;
          const g = await insertGroup(c, { name, ...plan.newGroup(name) });
          idByName.set(name, g.id);
          created.push(name);
        }
      }
      const wantedSet = new Set(wanted);
      const leave = current.filter((g) => g.name === null || (!wantedSet.has(g.name) && !plan.isBlocked(g.name)));
      const currentIds = new Set(current.map((g) => g.id));
      const join = wanted.filter((n) => idByName.has(n) && !currentIds.has(idByName.get(n)!));
      if (leave.length > 0) {
        await c`delete from group_member where user_id = ${plan.userId} and group_id = any(${leave.map((g) => g.id)})`;
      }
      const now = epochSeconds();
      for (const name of join) {
        await c`insert into group_member (id, group_id, user_id, created_at, updated_at)
                values (${crypto.randomUUID()}, ${idByName.get(name)!}, ${plan.userId}, ${now}, ${now}) on conflict do nothing`;
      }
      return { added: join, removed: leave.map((g) => g.name ?? g.id), created };
    });
  }
}

async function insertGroup(c: Conn, g: NewGroup): Promise<GroupRecord> {
  const now = epochSeconds();
  const rows = await c.unsafe<GroupRecord[]>(
    `insert into "group" as g (id, user_id, name, description, data, meta, permissions, created_at, updated_at)
     values ($1, $2, $3, $4, $5::text::json, null, null, $6, $6) returning ${GROUP_COLUMNS}`,
    [crypto.randomUUID(), g.creatorId, g.name, g.description, g.data ? JSON.stringify(g.data) : null, now],
  );
  return rows[0]!;
}

async function addMembers(c: Conn, groupId: string, userIds: readonly string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const now = epochSeconds();
  const ids = [...new Set(userIds)];
  const rows = await c<{ user_id: string }[]>`
    insert into group_member (id, group_id, user_id, created_at, updated_at)
    select gen_random_uuid()::text, ${groupId}, u.id, ${now}, ${now} from "user" u where u.id = any(${ids})
    on conflict do nothing returning user_id`;
  return rows.map((r) => r.user_id);
}

async function removeMembers(c: Conn, groupId: string, userIds: readonly string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const rows = await c<{ user_id: string }[]>`
    delete from group_member where group_id = ${groupId} and user_id = any(${[...userIds]}) returning user_id`;
  return rows.map((r) => r.user_id);
}
