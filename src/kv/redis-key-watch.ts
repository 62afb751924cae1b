import type Redis from "ioredis";
import type { KeyWatcher, KeyWatchHandlers } from "./key-watch.ts";
import { joinPrefix, type Unsubscribe } from "./store.ts";

const INVALIDATE_CHANNEL = "__redis__:invalidate";

/**
 * Key watch on Redis client-side-caching invalidations: `CLIENT TRACKING ON REDIRECT <id>
 * BCAST PREFIX {p}:{prefix}` on one connection, redirected to a second one subscribed to
 * `__redis__:invalidate`. RESP2 is used on purpose: ioredis 6 drops RESP3 `invalidate`
 * pushes, while the RESP2 redirect form arrives as an ordinary pub/sub message.
 * Works on standalone and Sentinel (re-established on every reconnect, so after a
 * failover too); Cluster would need one pair per master and is not supported.
 */
export class RedisKeyWatcher implements KeyWatcher {
  /**
   * @param connect creates a new RESP2 (`protocol: 2`) client with the store's connection options.
   * @param storePrefix the store's key prefix, stripped from reported keys.
   */
  constructor(
    private readonly connect: () => Redis,
    private readonly storePrefix: string,
  ) {}

  async watch(prefix: string, handlers: KeyWatchHandlers): Promise<Unsubscribe> {
    const wirePrefix = joinPrefix(this.storePrefix, prefix);
    const strip = joinPrefix(this.storePrefix, "");
    const sub = this.connect();
    // The id must be read before SUBSCRIBE (RESP2 subscriber mode refuses CLIENT ID), so
    // after a reconnect we subscribe ourselves instead of letting ioredis do it first.
    sub.options.autoResubscribe = false;
    const tracker = this.connect();
    let closed = false;
    let generation = 0;

    const establish = async () => {
      const mine = ++generation;
      try {
        const id = await sub.client("ID");
        await sub.subscribe(INVALIDATE_CHANNEL);
        await tracker.call("CLIENT", "TRACKING", "OFF");
        await tracker.call("CLIENT", "TRACKING", "ON", "REDIRECT", String(id), "BCAST", "PREFIX", wirePrefix);
        if (mine === generation && !closed) handlers.onReset();
      } catch {
        if (!closed) handlers.onDown();
      }
    };
    const down = () => {
      if (!closed) handlers.onDown();
    };

    sub.on("messageBuffer", (channel: Buffer, message: Buffer[] | Buffer | null) => {
      if (channel.toString() !== INVALIDATE_CHANNEL) return;
      if (message === null) return handlers.onReset();
      const keys = (Array.isArray(message) ? message : [message]).map((b) => b.toString()).filter((k) => k.startsWith(strip));
      if (keys.length > 0) handlers.onKeys(keys.map((k) => k.slice(strip.length)));
    });
    for (const c of [sub, tracker]) {
      c.on("close", down);
      c.on("end", down);
      c.on("error", () => {});
    }
    // A reconnect of either side changes client ids or drops tracking: start over.
    sub.on("ready", () => void establish());
    tracker.on("ready", () => void establish());
    await waitReady(sub);
    await waitReady(tracker);
    await establish();

    return async () => {
      closed = true;
      sub.disconnect();
      tracker.disconnect();
    };
  }
}

function waitReady(c: Redis): Promise<void> {
  if (c.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      c.off("ready", done);
      c.off("error", done);
      resolve();
    };
    c.once("ready", done);
    c.once("error", done);
  });
}
