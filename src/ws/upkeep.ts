import type { Logger } from "../observability/logger.ts";
import { unrefInterval } from "../platform.ts";
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
  /** Current `expires_at` of live device sessions by id (renewals move it); see DeviceSessionsRepo.liveExpiries. */
  liveExpiries(ids: readonly string[]): Promise<Map<string, number | null>>;
  writePool(conn: WsConnection): void;
  metrics: Pick<WsMetrics, "reaped">;
  log: Logger;
  onStoreError(e: unknown): void;
}

/**
 * Every interval: closes sockets whose token expired (4001, as a request would be refused)
 * unless their device session was renewed meanwhile (on any instance), refreshes this
 * instance's live session_pool entries, and reaps other instances' ghosts.
 */
export class Upkeep {
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly d: UpkeepDeps) {}

  start(): void {
    this.#timer = unrefInterval(() => void this.tick(), this.d.intervalMs);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async tick(now = Date.now()): Promise<void> {
    const expired: WsConnection[] = [];
    for (const conn of this.d.sockets.all()) {
      if (conn.state !== "authenticated") continue;
      if (conn.exp !== undefined && conn.exp * 1000 <= now) expired.push(conn);
      else if (now - conn.poolWrittenAt >= this.d.refreshMs) this.d.writePool(conn);
    }
    if (expired.length > 0) await this.#renewOrEnd(expired, now);
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

  /**
   * A socket authenticated with a token that has since been renewed (same session id, later
   * `exp`) follows its session, as the browser that renewed it does; any other expired socket
   * is closed. When the database cannot answer, they are closed: expiry is not waived blind.
   */
  async #renewOrEnd(expired: readonly WsConnection[], now: number): Promise<void> {
    const ids = expired.flatMap((c) => (c.jti ? [c.jti] : []));
    let live = new Map<string, number | null>();
    try {
      live = await this.d.liveExpiries(ids);
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, "could not check renewed sessions; closing expired sockets");
    }
    for (const conn of expired) {
      const exp = conn.jti ? live.get(conn.jti) : undefined;
      if (exp === null || (exp !== undefined && exp * 1000 > now)) conn.exp = exp ?? undefined;
      else if (conn.state === "authenticated") this.d.end(conn, CLOSE.UNAUTHORIZED, "Unauthorized");
    }
  }
}
