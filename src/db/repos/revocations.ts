import type { StrictPool } from "../pool.ts";
import { epochSeconds } from "./users.ts";

/** One revoked token (by jti, or by digest for tokens without one). */
export interface TokenRevocation {
  tokenId: string;
  /** When the longest-lived token of that id expires (unix seconds); null: never. */
  expiresAt: number | null;
}

/** A user's per-user revocation times (unix seconds), null where never set. */
export interface UserRevocation {
  userId: string;
  /** Tokens issued at or before this are refused. */
  revokedAt: number | null;
  /** API keys created at or before this are refused. */
  keysRevokedAt: number | null;
}

/** Revocations, plus the database clock (ms) to ask "what changed since" next time. */
export interface RevocationBatch {
  tokens: TokenRevocation[];
  users: UserRevocation[];
  /** The database's clock when the rows were read. */
  cursorMs: number;
}

const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

interface TokenRow { token_id: string; expires_at: string | null }
interface UserRow { user_id: string; revoked_at: string | null; keys_revoked_at: string | null }

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));
const tokenOf = (r: TokenRow): TokenRevocation => ({ tokenId: r.token_id, expiresAt: num(r.expires_at) });
const userOf = (r: UserRow): UserRevocation => ({ userId: r.user_id, revokedAt: num(r.revoked_at), keysRevokedAt: num(r.keys_revoked_at) });

/**
 * `gatehouse_revoked_token` and `gatehouse_user_revocation`: the durable record every
 * revocation is written to first (Redis and the replicas are copies).
 */
export class RevocationsRepo {
  constructor(private readonly pool: StrictPool) {}

  /**
   * Records a token revocation lasting until the later of `exp` and the device session's
   * `expires_at` (a renewal moves it), and returns that time (null: never).
   */
  revokeToken(tokenId: string, userId: string | null, exp: number | null): Promise<number | null> {
    return this.pool.run("revocation.token", async (c) => {
      const rows = await c.unsafe<{ expires_at: string | null }[]>(
        `with s as (select expires_at from gatehouse_session where id = $1)
         insert into gatehouse_revoked_token (token_id, user_id, expires_at, revoked_at, changed_ms)
         select $1, $2,
                case when $3::bigint is null or exists (select 1 from s where expires_at is null) then null
                     else greatest($3::bigint, (select max(expires_at) from s)) end,
                $4, ${NOW_MS}
         on conflict (token_id) do update set
           expires_at = case when gatehouse_revoked_token.expires_at is null or excluded.expires_at is null then null
                             else greatest(gatehouse_revoked_token.expires_at, excluded.expires_at) end,
           changed_ms = excluded.changed_ms
         returning expires_at`,
        [tokenId, userId, exp, epochSeconds()],
      );
      return num(rows[0]?.expires_at ?? null);
    });
  }

  /**
   * Moves a user's revocation times forward (never back): `tokensAt` for session tokens,
   * `keysAt` for API keys (null leaves one unchanged). Returns the resulting times.
   */
  revokeUser(userId: string, tokensAt: number | null, keysAt: number | null): Promise<UserRevocation> {
    return this.pool.run("revocation.user", async (c) => {
      const rows = await c.unsafe<UserRow[]>(
        `insert into gatehouse_user_revocation (user_id, revoked_at, keys_revoked_at, changed_ms)
         values ($1, $2::bigint, $3::bigint, ${NOW_MS})
         on conflict (user_id) do update set
           revoked_at = greatest(gatehouse_user_revocation.revoked_at, excluded.revoked_at),
           keys_revoked_at = greatest(gatehouse_user_revocation.keys_revoked_at, excluded.keys_revoked_at),
           changed_ms = excluded.changed_ms
         returning user_id, revoked_at, keys_revoked_at`,
        [userId, tokensAt, keysAt],
      );
      return userOf(rows[0]!);
    });
  }

  /** Every revocation still in force, newest first, at most `limit` tokens (expired rows are pruned). */
  loadLive(limit: number): Promise<RevocationBatch> {
    return this.pool.run("revocation.load", async (c) => {
      const cursor = await c.unsafe<{ now_ms: string }[]>(`select ${NOW_MS} as now_ms`);
      await c.unsafe(`delete from gatehouse_revoked_token where expires_at is not null and expires_at < $1`, [epochSeconds() - 60]);
      const tokens = await c.unsafe<TokenRow[]>(`select token_id, expires_at from gatehouse_revoked_token order by changed_ms desc limit $1`, [limit]);
      const users = await c.unsafe<UserRow[]>(`select user_id, revoked_at, keys_revoked_at from gatehouse_user_revocation order by changed_ms desc limit $1`, [limit]);
      return { tokens: tokens.map(tokenOf), users: users.map(userOf), cursorMs: Number(cursor[0]!.now_ms) };
    });
  }

  /** Revocations changed after `sinceMs` (database clock). */
  changedSince(sinceMs: number): Promise<RevocationBatch> {
    return this.pool.run("revocation.changed", async (c) => {
      const cursor = await c.unsafe<{ now_ms: string }[]>(`select ${NOW_MS} as now_ms`);
      const tokens = await c.unsafe<TokenRow[]>(`select token_id, expires_at from gatehouse_revoked_token where changed_ms > $1`, [sinceMs]);
      const users = await c.unsafe<UserRow[]>(`select user_id, revoked_at, keys_revoked_at from gatehouse_user_revocation where changed_ms > $1`, [sinceMs]);
      return { tokens: tokens.map(tokenOf), users: users.map(userOf), cursorMs: Number(cursor[0]!.now_ms) };
    });
  }

  /** What the record says about one token id and one user (for a replica that cannot answer). */
  lookup(tokenId: string | null, userId: string): Promise<{ token: TokenRevocation | null; user: UserRevocation | null }> {
    return this.pool.run("revocation.lookup", async (c) => {
      const [tokens, users] = await Promise.all([
        tokenId === null ? Promise.resolve([]) : c.unsafe<TokenRow[]>(`select token_id, expires_at from gatehouse_revoked_token where token_id = $1`, [tokenId]),
        c.unsafe<UserRow[]>(`select user_id, revoked_at, keys_revoked_at from gatehouse_user_revocation where user_id = $1`, [userId]),
      ]);
      return { token: tokens[0] ? tokenOf(tokens[0]) : null, user: users[0] ? userOf(users[0]) : null };
    });
  }
}
