import type { Conn, StrictPool } from "../pool.ts";
import { BatchLoader } from "../batch-loader.ts";

/** Roles Open WebUI knows. */
export type Role = "admin" | "user" | "pending";

/** A `user` row, as far as Gatehouse reads it. */
export interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  profile_image_url: string | null;
  oauth: Record<string, { sub: string }> | null;
  last_active_at: number | null;
  created_at: number | null;
  updated_at: number | null;
}

const USER_COLUMNS = "id, email, name, role, profile_image_url, oauth, last_active_at, created_at, updated_at";

/** Fields of a new user; the password hash goes into `auth`. */
export interface NewUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  profileImageUrl?: string;
  oauth?: Record<string, { sub: string }> | null;
}

/** `insert` with `onlyIfFirst` found users already (sign-up is closed to everyone but the first). */
export class NotFirstUserError extends Error {
  readonly code = "ERR_NOT_FIRST_USER";
  constructor() {
    super("only the first user may be created this way");
    this.name = "NotFirstUserError";
  }
}

/** Seconds since the epoch, as Open WebUI stores timestamps. */
export function epochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Reads and writes `user` and `auth` exactly as Open WebUI lays them out. */
export class UsersRepo {
  /** Concurrent reads by id (a burst of cold sign-ins) share one checkout and one query. */
  readonly #byId: BatchLoader<UserRecord>;

  constructor(private readonly pool: StrictPool) {
    this.#byId = new BatchLoader(pool, "user.by_id", async (c, ids) => {
      const rows = await c.unsafe<UserRecord[]>(`select ${USER_COLUMNS} from "user" where id = any($1::text[])`, [ids]);
      return new Map(rows.map((u) => [u.id, u]));
    });
  }

  /** The user, read together with every other user asked for meanwhile (src/db/batch-loader.ts). */
  async byId(id: string): Promise<UserRecord | null> {
    return (await this.#byId.load(id)) ?? null;
  }

  byEmail(email: string): Promise<UserRecord | null> {
    return this.pool.run("user.by_email", async (c) =>
      first(await c.unsafe<UserRecord[]>(`select ${USER_COLUMNS} from "user" where lower(email) = lower($1)`, [email])));
  }

  /** The user and their credential row for a password sign-in. */
  credentialsByEmail(email: string): Promise<{ user: UserRecord; password: string | null; active: boolean } | null> {
    return this.pool.run("auth.by_email", async (c) => {
      const rows = await c.unsafe<Array<UserRecord & { password: string | null; active: boolean | null }>>(
        `select ${USER_COLUMNS.split(", ").map((x) => `u.${x}`).join(", ")}, a.password, a.active
           from "user" u join auth a on a.id = u.id where lower(u.email) = lower($1)`,
        [email],
      );
      const row = first(rows);
      if (!row) return null;
      const { password, active, ...user } = row;
      return { user, password, active: active !== false };
    });
  }

  /** The user whose `oauth.{provider}.sub` is `sub` (Open WebUI's link between a user and a provider account). */
  byOAuthSub(provider: string, sub: string): Promise<UserRecord | null> {
    return this.pool.run("user.by_oauth_sub", async (c) =>
      first(await c.unsafe<UserRecord[]>(`select ${USER_COLUMNS} from "user" where oauth->$1->>'sub' = $2 limit 1`, [provider, sub])));
  }

  /** Sets `oauth.{provider}.sub`, keeping other providers' links. */
  setOAuthSub(id: string, provider: string, sub: string): Promise<UserRecord | null> {
    return this.pool.run("user.set_oauth_sub", async (c) =>
      first(await c.unsafe<UserRecord[]>(
        `update "user" set oauth = (coalesce(oauth::jsonb, '{}'::jsonb) || jsonb_build_object($2::text, jsonb_build_object('sub', $3::text)))::json,
                updated_at = $4 where id = $1 returning ${USER_COLUMNS}`,
        [id, provider, sub, epochSeconds()],
      )));
  }

  passwordHash(id: string): Promise<string | null> {
    return this.pool.run("auth.password_by_id", async (c) =>
      first(await c<{ password: string | null }[]>`select password from auth where id = ${id}`)?.password ?? null);
  }

  /** True when some account still has a bcrypt hash (Open WebUI's, upgraded at its next sign-in). */
  hasLegacyHashes(): Promise<boolean> {
    return this.pool.run("auth.legacy_hashes", async (c) => (await c<{ e: boolean }[]>`select exists(select 1 from auth where password like '$2%') as e`)[0]?.e === true);
  }

  count(): Promise<number> {
    return this.pool.run("user.count", async (c) => Number(first(await c<{ n: string }[]>`select count(*) as n from "user"`)?.n ?? 0));
  }

  /**
   * Inserts `user` + `auth` in one transaction. When `firstUserBecomesAdmin`, the role is
   * decided inside the transaction under a lock, so two simultaneous first sign-ups cannot
   * both become admin. With `onlyIfFirst` (sign-up while `ENABLE_SIGNUP` is off), the same
   * locked count also decides whether the insert may happen at all.
   * @throws NotFirstUserError with `onlyIfFirst` when a user exists.
   */
  insert(u: NewUser, firstUserBecomesAdmin = false, onlyIfFirst = false): Promise<UserRecord> {
    return this.pool.transaction("user.insert", async (c) => {
      let role = u.role;
      if (firstUserBecomesAdmin || onlyIfFirst) {
        await c`lock table "user" in share row exclusive mode`;
        const n = Number(first(await c<{ n: string }[]>`select count(*) as n from "user"`)?.n ?? 0);
        if (n > 0 && onlyIfFirst) throw new NotFirstUserError();
        if (n === 0 && firstUserBecomesAdmin) role = "admin";
      }
      const now = epochSeconds();
      const email = u.email.toLowerCase();
      await c`insert into auth (id, email, password, active) values (${u.id}, ${email}, ${u.passwordHash}, true)`;
      const rows = await c.unsafe<UserRecord[]>(
        `insert into "user" (id, email, name, role, profile_image_url, oauth, last_active_at, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6::text::json, $7, $7, $7) returning ${USER_COLUMNS}`,
        [u.id, email, u.name, role, u.profileImageUrl ?? "/user.png", u.oauth ? JSON.stringify(u.oauth) : null, now],
      );
      return first(rows)!;
    });
  }

  updatePassword(id: string, hash: string): Promise<void> {
    return this.pool.run("auth.update_password", async (c) => void (await c`update auth set password = ${hash} where id = ${id}`));
  }

  updateProfile(id: string, fields: { name?: string; profileImageUrl?: string }): Promise<UserRecord | null> {
    return this.pool.run("user.update_profile", async (c) =>
      first(await c.unsafe<UserRecord[]>(
        `update "user" set name = coalesce($2, name), profile_image_url = coalesce($3, profile_image_url), updated_at = $4
          where id = $1 returning ${USER_COLUMNS}`,
        [id, fields.name ?? null, fields.profileImageUrl ?? null, epochSeconds()],
      )));
  }

  updateRole(id: string, role: Role): Promise<UserRecord | null> {
    return this.pool.run("user.update_role", async (c) =>
      first(await c.unsafe<UserRecord[]>(`update "user" set role = $2, updated_at = $3 where id = $1 returning ${USER_COLUMNS}`, [id, role, epochSeconds()])));
  }

  delete(id: string): Promise<boolean> {
    return this.pool.transaction("user.delete", async (c) => {
      await c`delete from auth where id = ${id}`;
      const r = await c`delete from "user" where id = ${id}`;
      return r.count > 0;
    });
  }

  /** One statement for a whole batch of `last_active_at` updates. */
  touchLastActive(updates: ReadonlyMap<string, number>): Promise<void> {
    if (updates.size === 0) return Promise.resolve();
    const ids = [...updates.keys()];
    const times = ids.map((id) => updates.get(id)!);
    return this.pool.run("user.touch_last_active", async (c: Conn) => {
      await c`update "user" u set last_active_at = v.t
                from (select unnest(${ids}::text[]) as id, unnest(${times}::bigint[]) as t) v
               where u.id = v.id and (u.last_active_at is null or u.last_active_at < v.t)`;
    });
  }
}

function first<T>(rows: readonly T[]): T | null {
  return rows[0] ?? null;
}
