import type Redis from "ioredis";
import type { RedisOptions } from "ioredis";
import type { KeyWatcher, KeyWatchHandlers } from "./key-watch.ts";
import { joinPrefix, type Unsubscribe } from "./store.ts";

const INVALIDATE_CHANNEL = "__redis__:invalidate";

/**
 * Key watch on Redis client-side-caching invalidations: `CLIENT TRACKING ON REDIRECT <id>
 * BCAST PREFIX {p}:{prefix}` on one connection, redirected to a second one subscribed to
 * `__redis__:invalidate`. RESP2 is used on purpose: ioredis 6 drops RESP3 `invalidate`
 * pushes, while the RESP2 redirect form arrives as an ordinary pub/sub message.
 * Every (re)connect of either connection re-establishes the pair and reports `onReset`,
 * so it survives restarts and Sentinel failovers. Cluster would need one pair per master
 * and is not supported.
 */
export class RedisKeyWatcher implements KeyWatcher {
  /**
   * @param connect creates a RESP2 client with the store's connection options plus `extra`.
   * @param storePrefix the store's key prefix, stripped from reported keys.
   */
  constructor(
    private readonly connect: (extra: RedisOptions) => Redis,
    private readonly storePrefix: string,
  ) {}

  async watch(prefix: string, handlers: KeyWatchHandlers): Promise<Unsubscribe> {
    const wirePrefix = joinPrefix(this.storePrefix, prefix);
    const strip = joinPrefix(this.storePrefix, "");
    // CLIENT ID must be read before SUBSCRIBE (RESP2 subscriber mode refuses it), so we
    // subscribe ourselves on every connect instead of letting ioredis resubscribe first.
    const sub = this.connect({ lazyConnect: true, autoResubscribe: false });
    const tracker = this.connect({ lazyConnect: true });
    let closed = false;
    let subId: number | null = null;
    let established: () => void = () => {};
    const firstReset = new Promise<void>((r) => (established = r));

    const track = async () => {
      if (subId === null || tracker.status !== "ready" || closed) return;
      try {
        await tracker.call("CLIENT", "TRACKING", "OFF");
        await tracker.call("CLIENT", "TRACKING", "ON", "REDIRECT", String(subId), "BCAST", "PREFIX", wirePrefix);
        handlers.onReset();
        established();
      } catch {
        if (!closed) handlers.onDown();
      }
    };
    const down = () => {
      if (!closed) handlers.onDown();
    };

    sub.on("ready", async () => {
      subId = null;
      try {
        const id = Number(await sub.client("ID"));
        await sub.subscribe(INVALIDATE_CHANNEL);
        subId = id;
        await track();
      } catch {
        down();
      }
    });
    tracker.on("ready", () => void track());
    sub.on("messageBuffer", (channel: Buffer, message: Buffer[] | Buffer | null) => {
      if (channel.toString() !== INVALIDATE_CHANNEL) return;
      if (message === null) return handlers.onReset();
      const keys = (Array.isArray(message) ? message : [message]).map((b) => b.toString()).filter((k) => k.startsWith(strip));
      if (keys.length > 0) handlers.onKeys(keys.map((k) => k.slice(strip.length)));
    });
    for (const c of [sub, tracker]) {
      c.on("close", down);
      c.on("error", () => {});
      c.connect().catch(() => {});
    }
    // Wait briefly for the first establishment; if Redis is down the watch comes up later by itself.
    await Promise.race([firstReset, new Promise((r) => setTimeout(r, 2000))]);

    return async () => {
      closed = true;
      sub.disconnect();
      tracker.disconnect();
    };
  }
}
