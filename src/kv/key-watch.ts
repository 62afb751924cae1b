import type { Unsubscribe } from "./store.ts";

/** Callbacks of a key watch. */
export interface KeyWatchHandlers {
  /** Keys (logical names, prefix removed) that were written, deleted or expired by anyone. */
  onKeys(keys: string[]): void;
  /**
   * The watch was (re)established, or the server flushed everything: changes may have been
   * missed, so anything cached from the watched keys must be dropped.
   */
  onReset(): void;
  /** The watch is down; nothing cached can be trusted until the next `onReset`. */
  onDown(): void;
}

/**
 * Server-assisted invalidation: tells the holder about every change to keys under a
 * prefix, including writes made by other programs (Open WebUI) that publish nothing.
 */
export interface KeyWatcher {
  watch(prefix: string, handlers: KeyWatchHandlers): Promise<Unsubscribe>;
}
