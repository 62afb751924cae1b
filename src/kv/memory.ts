import { joinPrefix, type KeyValueStore, type SetOptions, type Unsubscribe } from "./store.ts";
import type { KeyWatcher, KeyWatchHandlers } from "./key-watch.ts";
import { clearUnrefTimer, unrefInterval, type UnrefTimer } from "../platform.ts";

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

interface Entry {
  value: string | Map<string, string>;
  expiresAt: number | null;
}

/**
 * The in-memory store for a single instance: same semantics as Redis for the operations
 * of the port (lazy expiry plus a periodic sweep; pub/sub delivered asynchronously).
 * Web APIs only, so it runs on Deno too. It is also its own {@link KeyWatcher}.
 */
export class MemoryStore implements KeyValueStore, KeyWatcher {
  readonly kind = "memory" as const;
  readonly prefix: string;
  readonly #data = new Map<string, Entry>();
  readonly #channels = new Map<string, Set<(m: string) => void>>();
  readonly #watches = new Set<{ prefix: string; handlers: KeyWatchHandlers }>();
  readonly #sweep: UnrefTimer;

  constructor(opts: { prefix: string }) {
    this.prefix = opts.prefix;
    // Must not keep the process alive.
    this.#sweep = unrefInterval(() => this.#sweepExpired(), 10_000);
  }

  wireKey(name: string): string {
    return joinPrefix(this.prefix, name);
  }

  async get(key: string): Promise<string | null> {
    return this.#string(key)?.value ?? null;
  }

  async set(key: string, value: string, opts: SetOptions = {}): Promise<boolean> {
    if (opts.onlyIfAbsent && this.#live(key)) return false;
    this.#data.set(this.wireKey(key), { value, expiresAt: opts.ttlMs !== undefined ? Date.now() + opts.ttlMs : null });
    this.#changed(key);
    return true;
  }

  async del(...keys: string[]): Promise<number> {
    let n = 0;
    for (const k of keys) {
      if (this.#live(k)) {
        this.#data.delete(this.wireKey(k));
        this.#changed(k);
        n++;
      }
    }
    return n;
  }

  async delIfValue(key: string, value: string): Promise<boolean> {
    if (!this.#live(key) || this.#data.get(this.wireKey(key))?.value !== value) return false;
    return (await this.del(key)) === 1;
  }

  async incr(key: string, by = 1): Promise<number> {
    const e = this.#string(key);
    if (!Number.isSafeInteger(by) || (e && !/^-?\d+$/.test(e.value))) throw new Error("ERR value is not an integer or out of range");
    const next = (e ? Number(e.value) : 0) + by;
    this.#data.set(this.wireKey(key), { value: String(next), expiresAt: e?.expiresAt ?? null });
    this.#changed(key);
    return next;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const e = this.#live(key);
    if (!e) return false;
    e.expiresAt = Date.now() + ttlMs;
    return true;
  }

  async ttl(key: string): Promise<number> {
    const e = this.#live(key);
    if (!e) return -2;
    return e.expiresAt === null ? -1 : Math.max(0, e.expiresAt - Date.now());
  }

  async hget(key: string, field: string): Promise<string | null> {
    return this.#hash(key, false)?.get(field) ?? null;
  }

  async hset(key: string, field: string, value: string): Promise<void> {
    this.#hash(key, true)!.set(field, value);
    this.#changed(key);
  }

  async hdel(key: string, ...fields: string[]): Promise<number> {
    const h = this.#hash(key, false);
    if (!h) return 0;
    let n = 0;
    for (const f of fields) if (h.delete(f)) n++;
    if (h.size === 0) this.#data.delete(this.wireKey(key));
    if (n > 0) this.#changed(key);
    return n;
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.#hash(key, false) ?? []);
  }

  async hlen(key: string): Promise<number> {
    return this.#hash(key, false)?.size ?? 0;
  }

  async publish(channel: string, message: string): Promise<number> {
    const handlers = this.#channels.get(this.wireKey(channel));
    if (!handlers) return 0;
    for (const h of handlers) {
      // Like Redis: never inside publish(), not after unsubscribe, and one throwing handler
      // neither stops the others nor becomes an uncaught error.
      queueMicrotask(() => {
        if (!handlers.has(h)) return;
        try {
          h(message);
        } catch {
          // Swallowed as RedisStore does.
        }
      });
    }
    return handlers.size;
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    const wire = this.wireKey(channel);
    let set = this.#channels.get(wire);
    if (!set) this.#channels.set(wire, (set = new Set()));
    // A distinct wrapper per subscription, so one handler subscribed twice unsubscribes independently.
    const own = (m: string) => handler(m);
    set.add(own);
    return async () => {
      set.delete(own);
      // The identity check keeps a repeated unsubscribe from dropping a newer subscriber's set.
      if (set.size === 0 && this.#channels.get(wire) === set) this.#channels.delete(wire);
    };
  }

  async watch(prefix: string, handlers: KeyWatchHandlers): Promise<Unsubscribe> {
    const w = { prefix, handlers };
    this.#watches.add(w);
    handlers.onReset();
    return async () => void this.#watches.delete(w);
  }

  async ping(): Promise<void> {}

  /** Never down: it lives in this process. */
  isDown(): boolean {
    return false;
  }

  onHealthChange(_listener: (down: boolean) => void): () => void {
    return () => {};
  }

  async close(): Promise<void> {
    clearUnrefTimer(this.#sweep);
    this.#data.clear();
    this.#channels.clear();
    this.#watches.clear();
  }

  #live(key: string): Entry | undefined {
    const wire = this.wireKey(key);
    const e = this.#data.get(wire);
    if (!e) return undefined;
    if (e.expiresAt !== null && e.expiresAt <= Date.now()) {
      this.#data.delete(wire);
      return undefined;
    }
    return e;
  }

  #string(key: string): (Entry & { value: string }) | undefined {
    const e = this.#live(key);
    if (e && typeof e.value !== "string") throw new Error(WRONGTYPE);
    return e as (Entry & { value: string }) | undefined;
  }

  #hash(key: string, create: boolean): Map<string, string> | undefined {
    const e = this.#live(key);
    if (e) {
      if (typeof e.value === "string") throw new Error(WRONGTYPE);
      return e.value;
    }
    if (!create) return undefined;
    const h = new Map<string, string>();
    this.#data.set(this.wireKey(key), { value: h, expiresAt: null });
    return h;
  }

  #changed(key: string): void {
    for (const w of this.#watches) if (key.startsWith(w.prefix)) queueMicrotask(() => w.handlers.onKeys([key]));
  }

  #sweepExpired(): void {
    const now = Date.now();
    for (const [k, e] of this.#data) if (e.expiresAt !== null && e.expiresAt <= now) this.#data.delete(k);
  }
}
