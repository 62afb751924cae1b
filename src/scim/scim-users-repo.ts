import type { StrictPool } from "../db/pool.ts";
import { epochSeconds, type Role } from "../db/repos/users.ts";

/** A user as SCIM sees it: the `user` row plus Open WebUI's `scim` column. */
export interface ScimUserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  profile_image_url: string | null;
  /**
   * Open WebUI's layout: `{"<SCIM_AUTH_PROVIDER>": {"external_id": "..."}}`; Gatehouse adds
   * `user_name` beside it when the client's userName is not the account email (Entra ID's UPNs).
   */
  scim: Record<string, ScimLink> | null;
  created_at: number | null;
  updated_at: number | null;
}

/** What `user.scim` holds per provider. */
export interface ScimLink {
  external_id?: string;
  user_name?: string;
}

/** Changes a SCIM write makes to one user. */
export interface ScimUserUpdate {
  email?: string;
  name?: string;
  profileImageUrl?: string;
  /** false → role `pending` and `auth.active` false (Open WebUI: active = role ≠ pending); true → `user` again if pending. */
  active?: boolean;
  /** A string sets, null clears the external id under the provider. */
  externalId?: string | null;
  /** The client's userName, kept when it differs from the email. */
  userName?: string;
}

const COLUMNS = `u.id, u.email, u.name, u.role, u.profile_image_url, u.scim, u.created_at, u.updated_at`;

/** The reads and writes SCIM provisioning needs on `user` / `auth`; each one checkout or one transaction. */
export class ScimUsersRepo {
  constructor(private readonly pool: StrictPool, private readonly provider: string) {}

  byId(id: string): Promise<ScimUserRow | null> {
    return this.pool.run("scim.user_by_id", async (c) => (await c.unsafe<ScimUserRow[]>(`select ${COLUMNS} from "user" u where u.id = $1`, [id]))[0] ?? null);
  }

  byEmail(email: string): Promise<ScimUserRow | null> {
    return this.pool.run("scim.user_by_email", async (c) =>
      (await c.unsafe<ScimUserRow[]>(`select ${COLUMNS} from "user" u where lower(u.email) = lower($1) limit 1`, [email]))[0] ?? null);
  }

  /** By the stored SCIM userName, else (users not provisioned by SCIM) by email; case-insensitive. */
  byUserName(userName: string): Promise<ScimUserRow | null> {
    return this.pool.run("scim.user_by_user_name", async (c) =>
      (await c.unsafe<ScimUserRow[]>(
        `select ${COLUMNS} from "user" u where lower(u.scim->$1->>'user_name') = lower($2)
         union all select ${COLUMNS} from "user" u where lower(u.email) = lower($2) and u.scim->$1->>'user_name' is null limit 1`,
        [this.provider, userName],
      ))[0] ?? null);
  }

  /** By `scim.{provider}.external_id`, else (Open WebUI's account linking) by `oauth.{provider}.sub`. */
  byExternalId(externalId: string): Promise<ScimUserRow | null> {
    return this.pool.run("scim.user_by_external_id", async (c) =>
      (await c.unsafe<ScimUserRow[]>(
        `select ${COLUMNS} from "user" u where u.scim->$1->>'external_id' = $2
         union all select ${COLUMNS} from "user" u where u.oauth->$1->>'sub' = $2 limit 1`,
        [this.provider, externalId],
      ))[0] ?? null);
  }

  /** A page (zero-based `offset`) of every user, oldest first, with the total. */
  list(offset: number, limit: number): Promise<{ total: number; users: ScimUserRow[] }> {
    return this.pool.run("scim.user_list", async (c) => {
      const users = limit === 0 ? [] : await c.unsafe<ScimUserRow[]>(`select ${COLUMNS} from "user" u order by u.created_at nulls first, u.id limit $1 offset $2`, [limit, offset]);
      const [row] = await c<{ n: number }[]>`select count(*)::int as n from "user"`;
      return { total: row?.n ?? 0, users };
    });
  }

  /** The oldest admin (Open WebUI records it as the creator of SCIM groups). */
  firstAdminId(): Promise<string | null> {
    return this.pool.run("scim.first_admin", async (c) =>
      (await c<{ id: string }[]>`select id from "user" where role = 'admin' order by created_at nulls first, id limit 1`)[0]?.id ?? null);
  }

  /** Applies `u` in one transaction; null when the user does not exist. */
  update(id: string, u: ScimUserUpdate): Promise<ScimUserRow | null> {
    return this.pool.transaction("scim.user_update", async (c) => {
      const now = epochSeconds();
      const email = u.email?.toLowerCase() ?? null;
      const role = u.active === false ? "pending" : null;
      const [row] = await c.unsafe<ScimUserRow[]>(
        `update "user" u set email = coalesce($2, email), name = coalesce($3, name), profile_image_url = coalesce($4, profile_image_url),
                role = case when $5::text is not null then $5::text when $6::boolean and role = 'pending' then 'user' else role end,
                updated_at = $7
          where id = $1 returning ${COLUMNS}`,
        [id, email, u.name ?? null, u.profileImageUrl ?? null, role, u.active === true, now],
      );
      if (!row) return null;
      if (email !== null || u.active !== undefined) {
        await c`update auth set email = coalesce(${email}, email), active = coalesce(${u.active ?? null}::boolean, active) where id = ${id}`;
      }
      if (u.externalId === undefined && u.userName === undefined) return row;
      const [cur] = await c<{ scim: Record<string, ScimLink> | null }[]>`select scim from "user" where id = ${id} for update`;
      const scim = { ...(cur?.scim ?? {}) };
      const link: ScimLink = { ...(scim[this.provider] ?? {}) };
      if (u.externalId === null) delete link.external_id;
      else if (u.externalId !== undefined) link.external_id = u.externalId;
      if (u.userName !== undefined) {
        if (u.userName.toLowerCase() === row.email.toLowerCase()) delete link.user_name;
        else link.user_name = u.userName;
      }
      if (Object.keys(link).length === 0) delete scim[this.provider];
      else scim[this.provider] = link;
      const [withScim] = await c.unsafe<ScimUserRow[]>(
        `update "user" u set scim = $2::text::json where id = $1 returning ${COLUMNS}`,
        [id, Object.keys(scim).length === 0 ? null : JSON.stringify(scim)],
      );
      return withScim ?? row;
    });
  }

  /** The external id stored for this deployment's provider, if any. */
  externalIdOf(row: ScimUserRow): string | null {
    return row.scim?.[this.provider]?.external_id ?? null;
  }

  /** The userName SCIM knows the user by: the stored one, else the email. */
  userNameOf(row: ScimUserRow): string {
    return row.scim?.[this.provider]?.user_name ?? row.email;
  }
}
