import type { StrictPool } from "../pool.ts";
import { epochSeconds } from "./users.ts";

/** How Gatehouse stores API keys it creates. */
export type ApiKeyStorage = "sha256" | "plaintext";

/** Marker for digests in `api_key.key`, so they never collide with Open WebUI's plaintext keys. */
export const DIGEST_PREFIX = "sha256$";

/** SHA-256 hex of a key. */
export async function digestApiKey(key: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return DIGEST_PREFIX + [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Open WebUI's `api_key` table (one key per user, id `key_{user_id}`). Rows written by
 * Open WebUI hold the plaintext key; rows Gatehouse writes hold a digest unless configured
 * otherwise. Lookups try both.
 */
export class ApiKeysRepo {
  constructor(private readonly pool: StrictPool, private readonly storage: ApiKeyStorage) {}

  /** The owner of a presented key and when the key was created (unix seconds), or null. */
  async ownerOf(key: string): Promise<{ userId: string; createdAt: number } | null> {
    const digest = await digestApiKey(key);
    return this.pool.run("api_key.lookup", async (c) => {
      const rows = await c<{ user_id: string; created_at: string }[]>`select user_id, created_at from api_key where key = ${key} or key = ${digest} limit 1`;
      return rows[0] ? { userId: rows[0].user_id, createdAt: Number(rows[0].created_at) } : null;
    });
  }

  /**
   * Replaces the user's key with `key`. Its `created_at` is now — and after the user's key
   * revocation time even within the same second, since keys created at or before it are refused.
   */
  async put(userId: string, key: string): Promise<void> {
    const stored = this.storage === "sha256" ? await digestApiKey(key) : key;
    const now = epochSeconds();
    await this.pool.run("api_key.put", async (c) => {
      await c`insert into api_key (id, user_id, key, created_at, updated_at)
              select ${`key_${userId}`}, ${userId}, ${stored},
                     greatest(${now}::bigint, (select keys_revoked_at + 1 from gatehouse_user_revocation where user_id = ${userId})), ${now}
              on conflict (id) do update set key = excluded.key, created_at = excluded.created_at, updated_at = excluded.updated_at`;
    });
  }

  /** The stored key if it is plaintext (Open WebUI shows it back); null for digests or none. */
  async readable(userId: string): Promise<{ exists: boolean; plaintext: string | null }> {
    return this.pool.run("api_key.get", async (c) => {
      const rows = await c<{ key: string }[]>`select key from api_key where user_id = ${userId}`;
      if (!rows[0]) return { exists: false, plaintext: null };
      return { exists: true, plaintext: rows[0].key.startsWith(DIGEST_PREFIX) ? null : rows[0].key };
    });
  }

  async delete(userId: string): Promise<boolean> {
    return this.pool.run("api_key.delete", async (c) => (await c`delete from api_key where user_id = ${userId}`).count > 0);
  }
}

/** A new key in Open WebUI's format: `sk-` + 32 lowercase hex. */
export function newApiKey(): string {
  return "sk-" + crypto.randomUUID().replace(/-/g, "");
}
