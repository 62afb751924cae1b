import type { Cluster, Redis } from "ioredis";
import type { Unsubscribe } from "./store.ts";
import { withTimeout } from "../with-timeout.ts";

// subscribe() returns after this even if Redis is down; the subscription is made once it is up.
const SUBSCRIBE_WAIT_MS = 2000;

/**
 * The store's pub/sub side: a second connection, made on first subscribe, that does queue
 * (SUBSCRIBE must survive an outage) and resubscribes to every channel with handlers on
 * every reconnect. Channel names here are wire names (prefix already applied).
 */
export class RedisSubscriptions {
  readonly #channels = new Map<string, { handlers: Set<(m: string) => void>; subscribed: Promise<void> }>();
  #subscriber: Redis | Cluster | null = null;

  /**
   * @param make creates the subscriber connection
   * @param resubscribe true: resubscribe on every "ready" (not on Cluster, which does it itself)
   * @param keepAlive reconnects a connection ioredis gave up on
   */
  constructor(
    private readonly make: () => Redis | Cluster,
    private readonly resubscribe: boolean,
    private readonly keepAlive: (c: Redis | Cluster) => void,
  ) {}

  /** The subscriber connection, once made. */
  get connection(): Redis | Cluster | null {
    return this.#subscriber;
  }

  /**
   * Registers `handler` and subscribes. Never fails because Redis is unreachable: it waits at
   * most {@link SUBSCRIBE_WAIT_MS}, and the subscription is made as soon as Redis answers.
   */
  async subscribe(wire: string, handler: (message: string) => void): Promise<Unsubscribe> {
    const sub = this.#ensureSubscriber();
    let entry = this.#channels.get(wire);
    if (!entry) {
      entry = { handlers: new Set(), subscribed: sub.subscribe(wire).then(() => {}, () => {}) };
      this.#channels.set(wire, entry);
    }
    // A distinct wrapper per call, so one function subscribed twice unsubscribes independently.
    const own = (m: string) => handler(m);
    const handlers = entry.handlers.add(own);
    // Concurrent subscribers of a new channel all wait for the same SUBSCRIBE acknowledgement.
    await within(entry.subscribed, SUBSCRIBE_WAIT_MS);
    return async () => {
      handlers.delete(own);
      if (handlers.size > 0 || this.#channels.get(wire)?.handlers !== handlers) return;
      this.#channels.delete(wire);
      await within(sub.unsubscribe(wire).catch(() => {}), SUBSCRIBE_WAIT_MS);
    };
  }

  /** Forgets every channel and handler (on close). */
  clear(): void {
    this.#channels.clear();
  }

  #ensureSubscriber(): Redis | Cluster {
    if (this.#subscriber) return this.#subscriber;
    const sub = this.make();
    sub.on("error", () => {});
    this.keepAlive(sub);
    // Every (re)connect subscribes to every channel with handlers; SUBSCRIBE is idempotent.
    if (this.resubscribe) sub.on("ready", () => this.#channels.size > 0 && void sub.subscribe(...this.#channels.keys()).catch(() => {}));
    sub.on("message", (channel: string, message: string) => {
      for (const h of this.#channels.get(channel)?.handlers ?? []) {
        try {
          h(message);
        } catch {
          // One handler's failure must not starve the others.
        }
      }
    });
    this.#subscriber = sub;
    return sub;
  }
}

/** Waits for `p`, but no longer than `ms`; never rejects. */
export function within(p: Promise<unknown>, ms: number): Promise<void> {
  return withTimeout(p, ms, "Redis").then(() => {}, () => {});
}
