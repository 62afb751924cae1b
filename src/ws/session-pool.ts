import type { KeyValueStore } from "../kv/store.ts";
import type { UserRecord } from "../db/repos/users.ts";

/** Open WebUI's hash of live sockets: `{prefix}:session_pool`, field = socket id. */
export const SESSION_POOL_KEY = "session_pool";

/** What a session_pool entry holds about the user: no password hash, profile image, OAuth subjects or tokens. */
export interface PoolUser {
  id: string;
  email: string;
  name: string;
  role: string;
  last_active_at: number | null;
  created_at: number | null;
  updated_at: number | null;
}

/** The user fields that may be shared through the store. */
export function poolUser(u: UserRecord): PoolUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    last_active_at: u.last_active_at === null ? null : Number(u.last_active_at),
    created_at: u.created_at === null ? null : Number(u.created_at),
    updated_at: u.updated_at === null ? null : Number(u.updated_at),
  };
}

/** One decoded entry; null fields when another writer stored something unexpected. */
export interface PoolEntry {
  userId: string | null;
  lastSeenAt: number | null;
}

/**
 * Reads and writes `session_pool` in Open WebUI's layout: the value is the JSON user plus
 * `last_seen_at` (unix seconds), so Open WebUI instances sharing Redis see Gatehouse's
 * sockets and the other way round.
 */
export class SessionPool {
  constructor(private readonly store: KeyValueStore) {}

  write(socketId: string, user: PoolUser, nowSeconds = Math.floor(Date.now() / 1000)): Promise<void> {
    return this.store.hset(SESSION_POOL_KEY, socketId, JSON.stringify({ ...user, last_seen_at: nowSeconds }));
  }

  async remove(socketIds: readonly string[]): Promise<void> {
    if (socketIds.length > 0) await this.store.hdel(SESSION_POOL_KEY, ...socketIds);
  }

  async entries(): Promise<Map<string, PoolEntry>> {
    const raw = await this.store.hgetall(SESSION_POOL_KEY);
    const out = new Map<string, PoolEntry>();
    for (const [sid, value] of Object.entries(raw)) out.set(sid, decode(value));
    return out;
  }
}

function decode(value: string): PoolEntry {
  try {
    const v = JSON.parse(value) as { id?: unknown; last_seen_at?: unknown };
    return {
      userId: typeof v.id === "string" ? v.id : null,
      lastSeenAt: typeof v.last_seen_at === "number" && Number.isFinite(v.last_seen_at) ? v.last_seen_at : null,
    };
  } catch {
    return { userId: null, lastSeenAt: null };
  }
}
