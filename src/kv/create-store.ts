import type { KeyValueStore } from "./store.ts";
import type { KeyWatcher } from "./key-watch.ts";
import { MemoryStore } from "./memory.ts";
import { createRedisStore } from "./redis.ts";

/** The store's settings, as in `Config.redis`. */
export interface StoreSettings {
  url: string | null;
  sentinelHosts: readonly string[];
  sentinelPort: number;
  sentinelMaxRetryCount: number;
  cluster: boolean;
  keyPrefix: string;
}

/** The configured store plus its key watcher (null where invalidation is unsupported). */
export interface StoreWithWatcher {
  store: KeyValueStore;
  watcher: KeyWatcher | null;
}

/**
 * Redis when `REDIS_URL` or Sentinel hosts are set, else the in-memory store (single instance).
 * Returns the watcher too because server-assisted invalidation is tied to the store's connections.
 */
export function createStore(s: StoreSettings, hooks: { onUnavailable?: () => void } = {}): StoreWithWatcher {
  if (s.url === null && s.sentinelHosts.length === 0) {
    const store = new MemoryStore({ prefix: s.keyPrefix });
    return { store, watcher: store };
  }
  const store = createRedisStore({
    url: s.url,
    sentinelHosts: s.sentinelHosts,
    sentinelPort: s.sentinelPort,
    sentinelMaxRetryCount: s.sentinelMaxRetryCount,
    cluster: s.cluster,
    prefix: s.keyPrefix,
    onUnavailable: hooks.onUnavailable,
  });
  return { store, watcher: store.watcher };
}
