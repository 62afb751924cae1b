import { Counter, Gauge, type Registry } from "prom-client";
import { withTimeout } from "../with-timeout.ts";

/** How long a scrape waits for the store's PING before reporting it down. */
const PING_TIMEOUT_MS = 1000;

/** Shared-store health: `gatehouse_store_up` (pinged at scrape) and `gatehouse_store_errors_total`. */
export interface StoreMetrics {
  /** Counts one command that failed because the store was unreachable. */
  unavailable(): void;
}

/** Registers the store metrics; `ping` is called once per scrape. */
export function createStoreMetrics(registry: Registry, ping: () => Promise<void>): StoreMetrics {
  const registers = [registry];
  const errors = new Counter({
    name: "gatehouse_store_errors_total",
    help: "Store (Redis) commands that failed because the store was unreachable, after retries",
    registers,
  });
  new Gauge({
    name: "gatehouse_store_up",
    help: "1 when the shared store answered a PING at scrape time, 0 when degraded",
    registers,
    async collect() {
      try {
        await withTimeout(ping(), PING_TIMEOUT_MS, "store PING");
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
  return { unavailable: () => errors.inc() };
}
