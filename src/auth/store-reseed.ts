import type { KeyValueStore } from "../kv/store.ts";
import type { Logger } from "../observability/logger.ts";
import type { DurableRevocations } from "./durable-revocations.ts";

/** Present while the store holds the revocations re-seeded from the durable record; gone after a flush or an empty restart. */
export const SEEDED_KEY = "auth:revocations:seeded";

/** How the revocation keys are named and how long they live. */
export interface RevocationKeys {
  token(tokenId: string, expiresAt: number | null): { key: string; ttlMs: number };
  user(userId: string, revokedAt: number): { key: string; ttlMs: number };
}

/**
 * Puts the durable revocations back into a store that lost them (a flush, a restart without
 * persistence), so Open WebUI instances sharing it refuse them too. Only the instance that
 * sets the marker key does it. Never throws.
 */
export async function reseedStore(store: KeyValueStore, durable: DurableRevocations, keys: RevocationKeys, owner: string, log: Logger): Promise<void> {
  try {
    if (!(await store.set(SEEDED_KEY, owner, { onlyIfAbsent: true }))) return;
    let written = 0;
    let batch: Promise<unknown>[] = [];
    for (const e of durable.entries()) {
      const { key, ttlMs } = "tokenId" in e ? keys.token(e.tokenId, e.expiresAt) : keys.user(e.userId, e.revokedAt);
      batch.push(store.set(key, "tokenId" in e ? "1" : String(e.revokedAt), { ttlMs }));
      if (batch.length === 500) await Promise.all(batch.splice(0));
      written++;
    }
    await Promise.all(batch);
    if (written > 0) log.info({ keys: written }, "store had lost its revocation keys: re-seeded them from the database");
  } catch (e) {
    log.warn({ err: (e as Error).message }, "could not re-seed the store's revocation keys");
  }
}
