import type { KeyValueStore, Unsubscribe } from "../kv/store.ts";

/** The store channel emits travel on; the store adds `REDIS_KEY_PREFIX` (DESIGN §4.8). */
export const DELIVERY_CHANNEL = "ws:deliver";

/** Where a frame goes: a room (`user:{id}`, `channel:{id}`) or every authenticated socket (null). */
export type DeliveryTarget = string | null;

/** On the wire: origin instance, target room, the frame already serialised. */
interface Envelope {
  o: string;
  r: DeliveryTarget;
  f: string;
}

/**
 * Carries emits to the other instances through the store's pub/sub. The emitting instance
 * delivers to its own sockets directly and skips its own messages when they come back, so
 * local delivery needs no round trip and survives a store outage.
 */
export class DeliveryBus {
  #unsubscribe: Unsubscribe | null = null;

  constructor(
    private readonly store: KeyValueStore,
    private readonly instanceId: string,
    private readonly deliverLocally: (target: DeliveryTarget, frame: string) => void,
  ) {}

  async start(): Promise<void> {
    this.#unsubscribe = await this.store.subscribe(DELIVERY_CHANNEL, (m) => this.#onMessage(m));
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.().catch(() => {});
    this.#unsubscribe = null;
  }

  /** Publishes to the other instances; rejects when the store cannot take it. */
  async publish(target: DeliveryTarget, frame: string): Promise<void> {
    const e: Envelope = { o: this.instanceId, r: target, f: frame };
    await this.store.publish(DELIVERY_CHANNEL, JSON.stringify(e));
  }

  #onMessage(message: string): void {
    let e: Partial<Envelope>;
    try {
      e = JSON.parse(message) as Partial<Envelope>;
    } catch {
      return;
    }
    if (e.o === this.instanceId || typeof e.f !== "string") return;
    if (e.r !== null && typeof e.r !== "string") return;
    this.deliverLocally(e.r, e.f);
  }
}
