import type { Logger } from "../observability/logger.ts";
import type { WsMetrics } from "../observability/ws-metrics.ts";
import type { WsConnection } from "./connection.ts";
import type { SocketRegistry } from "./socket-registry.ts";
import type { PoolReaper } from "./pool-reaper.ts";
import { CLOSE } from "./protocol.ts";

/** What the periodic upkeep acts through. */
export interface UpkeepDeps {
  sockets: SocketRegistry;
  reaper: PoolReaper;
  intervalMs: number;
  /** Our own live entries are rewritten when older than this, well within the reaper's timeout. */
  refreshMs: number;
  end(conn: WsConnection, code: number, reason: string): void;
  writePool(conn: WsConnection): void;
  metrics: Pick<WsMetrics, "reaped">;
  log: Logger;
  onStoreError(e: unknown): void;
}

/**
 * Every interval: closes sockets whose token expired (4001, as a request would be refused),
 * refreshes this instance's live session_pool entries, and reaps other instances' ghosts.
 */
export class Upkeep {
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly d: UpkeepDeps) {}

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.d.intervalMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async tick(now = Date.now()): Promise<void> {
    for (const conn of this.d.sockets.all()) {
      if (conn.state !== "authenticated") continue;
      if (conn.exp !== undefined && conn.exp * 1000 <= now) this.d.end(conn, CLOSE.UNAUTHORIZED, "Unauthorized");
      else if (now - conn.poolWrittenAt >= this.d.refreshMs) this.d.writePool(conn);
    }
    try {
      const reaped = await this.d.reaper.reapOnce(Math.floor(now / 1000));
      if (reaped) {
        this.d.metrics.reaped.inc(reaped);
        this.d.log.info({ reaped }, "reaped stale session_pool entries");
      }
    } catch (e) {
      this.d.onStoreError(e);
    }
  }
}
