import type { StrictPool } from "../pool.ts";
import { epochSeconds } from "./users.ts";

/** An `oauth_session` row (Open WebUI's layout). */
export interface OAuthSessionRow {
  id: string;
  user_id: string;
  provider: string;
  /** Fernet token of the token dict. */
  token: string;
  expires_at: number;
  created_at: number;
  updated_at: number;
}

const COLUMNS = "id, user_id, provider, token, expires_at, created_at, updated_at";

/** Reads and writes `oauth_session`; every statement is one short `run` (never across a network call). */
export class OAuthSessionsRepo {
  constructor(private readonly pool: StrictPool) {}

  async insert(row: Pick<OAuthSessionRow, "id" | "user_id" | "provider" | "token" | "expires_at">): Promise<void> {
    const now = epochSeconds();
    await this.pool.run("oauth_session.insert", async (c) => {
      await c`insert into oauth_session (id, user_id, provider, token, expires_at, created_at, updated_at)
              values (${row.id}, ${row.user_id}, ${row.provider}, ${row.token}, ${row.expires_at}, ${now}, ${now})`;
    });
  }

  byId(id: string): Promise<OAuthSessionRow | null> {
    return this.pool.run("oauth_session.by_id", async (c) =>
      normalise((await c.unsafe<OAuthSessionRow[]>(`select ${COLUMNS} from oauth_session where id = $1`, [id]))[0]));
  }

  listForUser(userId: string, provider?: string): Promise<OAuthSessionRow[]> {
    return this.pool.run("oauth_session.list", async (c) =>
      (await c.unsafe<OAuthSessionRow[]>(
        `select ${COLUMNS} from oauth_session where user_id = $1 and ($2::text is null or provider = $2) order by created_at desc, id`,
        [userId, provider ?? null],
      )).map((r) => normalise(r)!));
  }

  /** Replaces the token of a row after a refresh. */
  async updateToken(id: string, token: string, expiresAt: number): Promise<void> {
    await this.pool.run("oauth_session.update_token", async (c) => {
      await c`update oauth_session set token = ${token}, expires_at = ${expiresAt}, updated_at = ${epochSeconds()} where id = ${id}`;
    });
  }

  /** Deletes one row of one user; returns whether it existed. */
  deleteForUser(id: string, userId: string): Promise<boolean> {
    return this.pool.run("oauth_session.delete", async (c) => (await c`delete from oauth_session where id = ${id} and user_id = ${userId}`).count > 0);
  }

  /** Deletes rows by id; returns the ids deleted. */
  deleteIds(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.pool.run("oauth_session.delete_ids", async (c) =>
      (await c.unsafe<{ id: string }[]>(`delete from oauth_session where id = any($1::text[]) returning id`, [ids as string[]])).map((r) => r.id));
  }

  /** Deletes a user's rows for a provider (all providers when null); returns the ids deleted. */
  deleteForUserProvider(userId: string, provider: string | null): Promise<string[]> {
    return this.pool.run("oauth_session.delete_provider", async (c) =>
      (await c.unsafe<{ id: string }[]>(
        `delete from oauth_session where user_id = $1 and ($2::text is null or provider = $2) returning id`,
        [userId, provider],
      )).map((r) => r.id));
  }

  /** Deletes all but the newest `keep` rows of a user and provider; returns the ids deleted. */
  pruneBeyond(userId: string, provider: string, keep: number): Promise<string[]> {
    return this.pool.run("oauth_session.prune", async (c) =>
      (await c.unsafe<{ id: string }[]>(
        `delete from oauth_session where id in (
           select id from oauth_session where user_id = $1 and provider = $2
            order by created_at desc, updated_at desc, id desc offset $3)
         returning id`,
        [userId, provider, keep],
      )).map((r) => r.id));
  }

  /** Rows whose access token expired before `beforeSeconds` (sweep candidates), oldest first. */
  expiredBefore(beforeSeconds: number, limit: number): Promise<OAuthSessionRow[]> {
    return this.pool.run("oauth_session.expired", async (c) =>
      (await c.unsafe<OAuthSessionRow[]>(`select ${COLUMNS} from oauth_session where expires_at < $1 order by expires_at limit $2`, [beforeSeconds, limit]))
        .map((r) => normalise(r)!));
  }

  /** Live device sessions (`gatehouse_session`) started from these OAuth sessions. */
  deviceSessionIdsFor(oauthSessionIds: readonly string[]): Promise<string[]> {
    if (oauthSessionIds.length === 0) return Promise.resolve([]);
    return this.pool.run("oauth_session.device_sessions", async (c) =>
      (await c.unsafe<{ id: string }[]>(
        `select id from gatehouse_session where oauth_session_id = any($1::text[]) and revoked_at is null`,
        [oauthSessionIds as string[]],
      )).map((r) => r.id));
  }
}

// bigint columns come back as strings from some drivers.
function normalise(r: OAuthSessionRow | undefined): OAuthSessionRow | null {
  if (!r) return null;
  return { ...r, expires_at: Number(r.expires_at), created_at: Number(r.created_at), updated_at: Number(r.updated_at) };
}
