import type { StrictPool } from "../pool.ts";
import { epochSeconds } from "./users.ts";

/** How a session was started. */
export type AuthMethod = "password" | "oauth" | "trusted_header" | "signup" | "admin" | "ldap" | "passkey";

/** A `gatehouse_session` row. */
export interface DeviceSession {
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number | null;
  user_agent: string | null;
  ip: string | null;
  auth_method: AuthMethod;
  oauth_session_id: string | null;
  revoked_at: number | null;
  /** Authentication methods used, comma-separated (`pwd`, `otp`, `hwk`, `oauth`, `ldap`); null for older rows. */
  amr: string | null;
}

/** Fields recorded when a token is issued. */
export type NewDeviceSession = Pick<DeviceSession, "id" | "user_id" | "expires_at" | "user_agent" | "ip" | "auth_method" | "oauth_session_id"> & { amr?: string | null };

const COLUMNS = "id, user_id, created_at, last_seen_at, expires_at, user_agent, ip, auth_method, oauth_session_id, revoked_at, amr";

/** Device sessions: one row per issued token. */
export class DeviceSessionsRepo {
  constructor(private readonly pool: StrictPool) {}

  record(s: NewDeviceSession): Promise<void> {
    const now = epochSeconds();
    return this.pool.run("session.record", async (c) => {
      await c`insert into gatehouse_session (id, user_id, created_at, last_seen_at, expires_at, user_agent, ip, auth_method, oauth_session_id, amr)
              values (${s.id}, ${s.user_id}, ${now}, ${now}, ${s.expires_at}, ${s.user_agent}, ${s.ip}, ${s.auth_method}, ${s.oauth_session_id}, ${s.amr ?? null})`;
    });
  }

  /** Live sessions of a user (not revoked, not expired), newest first. */
  listLive(userId: string): Promise<DeviceSession[]> {
    const now = epochSeconds();
    return this.pool.run("session.list", async (c) =>
      c.unsafe<DeviceSession[]>(
        `select ${COLUMNS} from gatehouse_session
          where user_id = $1 and revoked_at is null and (expires_at is null or expires_at > $2)
          order by created_at desc, id`,
        [userId, now],
      ));
  }

  /** Every session of a user, revoked and expired ones included, newest first, at most `limit`. */
  listAll(userId: string, limit: number): Promise<DeviceSession[]> {
    return this.pool.run("session.list_all", async (c) =>
      c.unsafe<DeviceSession[]>(`select ${COLUMNS} from gatehouse_session where user_id = $1 order by created_at desc, id limit $2`, [userId, limit]));
  }

  byId(id: string): Promise<DeviceSession | null> {
    return this.pool.run("session.by_id", async (c) => (await c.unsafe<DeviceSession[]>(`select ${COLUMNS} from gatehouse_session where id = $1`, [id]))[0] ?? null);
  }

  /** Marks sessions revoked; returns the rows that changed (so their tokens can be revoked). */
  markRevoked(ids: readonly string[]): Promise<DeviceSession[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.pool.run("session.revoke", async (c) =>
      c.unsafe<DeviceSession[]>(
        `update gatehouse_session set revoked_at = $2 where id = any($1::text[]) and revoked_at is null returning ${COLUMNS}`,
        [ids as string[], epochSeconds()],
      ));
  }

  /** Marks every live session of a user revoked except `keepId`; returns those rows. */
  markAllRevoked(userId: string, keepId: string | null): Promise<DeviceSession[]> {
    return this.pool.run("session.revoke_all", async (c) =>
      c.unsafe<DeviceSession[]>(
        `update gatehouse_session set revoked_at = $3
          where user_id = $1 and revoked_at is null and ($2::text is null or id <> $2)
          returning ${COLUMNS}`,
        [userId, keepId, epochSeconds()],
      ));
  }

  /** Moves a session's expiry after its token was renewed (same jti); returns the session's `amr` (undefined without one). */
  extend(id: string, expiresAt: number | null): Promise<string[] | undefined> {
    return this.pool.run("session.extend", async (c) => {
      const rows = await c<{ amr: string | null }[]>`update gatehouse_session set expires_at = ${expiresAt} where id = ${id} returning amr`;
      return rows[0]?.amr ? rows[0].amr.split(",") : undefined;
    });
  }

  /**
   * `expires_at` of each id that is a live (not revoked) session: a renewal moves it, so a
   * holder of an older token of the same session can learn the session goes on.
   */
  liveExpiries(ids: readonly string[]): Promise<Map<string, number | null>> {
    if (ids.length === 0) return Promise.resolve(new Map());
    return this.pool.run("session.live_expiries", async (c) => {
      const rows = await c<{ id: string; expires_at: string | null }[]>`select id, expires_at from gatehouse_session where id = any(${ids as string[]}) and revoked_at is null`;
      return new Map(rows.map((r) => [r.id, r.expires_at === null ? null : Number(r.expires_at)]));
    });
  }

  /** Batched `last_seen_at` updates (one statement). */
  touch(updates: ReadonlyMap<string, number>): Promise<void> {
    if (updates.size === 0) return Promise.resolve();
    const ids = [...updates.keys()];
    const times = ids.map((id) => updates.get(id)!);
    return this.pool.run("session.touch", async (c) => {
      await c`update gatehouse_session s set last_seen_at = v.t
                from (select unnest(${ids}::text[]) as id, unnest(${times}::bigint[]) as t) v
               where s.id = v.id and s.last_seen_at < v.t`;
    });
  }
}
