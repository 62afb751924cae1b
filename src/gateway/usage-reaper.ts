import type { StrictPool } from "../db/pool.ts";
import type { Logger } from "../observability/logger.ts";

/** Beats an instance may miss before it counts as dead. */
const MISSED_BEATS = 3;
/** The database's clock, in ms, so instances' clocks never need to agree. */
const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/**
 * Billing never silently loses a call: each instance records a heartbeat in
 * `gatehouse_instances` every `heartbeatMs`, and on each beat closes the usage rows that a
 * dead instance (no beat for {@link MISSED_BEATS} intervals, or no entry at all) left
 * `started`, as `interrupted`, with the duration up to now. Any instance may reap; the
 * UPDATE is idempotent, so two reaping at once do no harm. An instance wrongly taken for
 * dead (stalled) completes its rows later anyway: a call's end overwrites `interrupted`.
 */
export class UsageReaper {
  #timer: ReturnType<typeof setInterval> | null = null;
  #failing = false;

  constructor(
    private readonly pool: StrictPool,
    readonly instanceId: string,
    private readonly heartbeatMs: number,
    private readonly log: Logger,
  ) {}

  /** Beats (and reaps) once now, then every `heartbeatMs`. Never throws. */
  async start(): Promise<void> {
    await this.tick();
    this.#timer = setInterval(() => void this.tick(), this.heartbeatMs);
    this.#timer.unref?.();
  }

  /** One heartbeat plus one reaping pass; failures are logged once per outage. */
  async tick(): Promise<number> {
    try {
      await this.pool.run("usage.heartbeat", (c) => c.unsafe(
        `insert into gatehouse_instances (instance_id, started_at_ms, heartbeat_at_ms) values ($1, ${NOW_MS}, ${NOW_MS})
         on conflict (instance_id) do update set heartbeat_at_ms = excluded.heartbeat_at_ms`,
        [this.instanceId],
      ));
      const reaped = await this.reap();
      if (this.#failing) this.log.info("usage heartbeat written again");
      this.#failing = false;
      return reaped;
    } catch (e) {
      if (!this.#failing) this.log.warn({ err: (e as Error).message }, "usage heartbeat failed; will retry");
      this.#failing = true;
      return 0;
    }
  }

  /** Closes the `started` rows of dead instances as `interrupted`; returns how many. */
  async reap(): Promise<number> {
    const staleMs = this.heartbeatMs * MISSED_BEATS;
    const rows = await this.pool.run("usage.reap", (c) => c.unsafe<{ id: string }[]>(
      `with dead as (
         delete from gatehouse_instances where heartbeat_at_ms < ${NOW_MS} - $1::bigint returning instance_id
       )
       update gatehouse_usage u
          set outcome = 'interrupted', duration_ms = greatest(0, ${NOW_MS} - u.started_at * 1000)
        where u.outcome = 'started'
          and (u.instance_id in (select instance_id from dead)
               or not exists (select 1 from gatehouse_instances i where i.instance_id = u.instance_id))
        returning u.id`,
      [staleMs],
    ));
    if (rows.length > 0) this.log.warn({ rows: rows.length }, "usage rows of a dead instance closed as interrupted");
    return rows.length;
  }

  /** Stops beating and removes this instance's entry (call after its usage rows are written). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.pool.run("usage.heartbeat", (c) => c`delete from gatehouse_instances where instance_id = ${this.instanceId}`).catch(() => {});
  }
}
