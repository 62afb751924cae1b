import type { KeyValueStore } from "../kv/store.ts";
import type { SessionPool } from "./session-pool.ts";

/** Open WebUI's lock name, so a mixed deployment still reaps from one place at a time. */
export const SESSION_CLEANUP_LOCK = "session_cleanup_lock";

/**
 * Removes `session_pool` entries nobody refreshed for `timeoutSeconds` — the sockets of an
 * instance that crashed. Every instance refreshes its own live entries well within the
 * timeout, so only ghosts go stale. One instance reaps per interval: the lock is a
 * `SET NX` with a TTL of one interval, never released early, so a holder that dies frees it.
 */
export class PoolReaper {
  constructor(
    private readonly store: KeyValueStore,
    private readonly pool: SessionPool,
    private readonly opts: { timeoutSeconds: number; intervalMs: number; instanceId: string },
    /** True for sockets open on this instance (never reaped here, whatever their timestamp). */
    private readonly isLocal: (socketId: string) => boolean,
  ) {}

  /** Reaps once if the lock is free; returns how many entries went, or null when another instance holds the lock. */
  async reapOnce(nowSeconds = Math.floor(Date.now() / 1000)): Promise<number | null> {
    const locked = await this.store.set(SESSION_CLEANUP_LOCK, this.opts.instanceId, { onlyIfAbsent: true, ttlMs: this.opts.intervalMs });
    if (!locked) return null;
    const stale: string[] = [];
    for (const [sid, entry] of await this.pool.entries()) {
      if (this.isLocal(sid)) continue;
      // Open WebUI's rule (`now - last_seen_at > timeout`); an unreadable entry is treated as never seen.
      if (nowSeconds - (entry.lastSeenAt ?? 0) > this.opts.timeoutSeconds) stale.push(sid);
    }
    await this.pool.remove(stale);
    return stale.length;
  }
}
