import type { StrictPool } from "../db/pool.ts";

/** Decides which `channel:{id}` rooms a user may join. */
export interface ChannelAccess {
  /** Channel ids the user may receive events of. */
  channelsFor(user: { id: string; role: string }): Promise<string[]>;
}

/** How long "Open WebUI's channel tables are absent" is believed before looking again. */
const ABSENT_RECHECK_MS = 5 * 60_000;

interface ChannelSchema {
  sql: string;
}

/**
 * Channel membership read from Open WebUI's own tables (`channel`, `channel_member`) in the
 * shared database: the channels a user owns or is an active member of, skipping deleted
 * and archived ones when those columns exist. Deliberately conservative: access-control
 * grants to groups or everyone are not evaluated here, so a user may get fewer rooms than
 * Open WebUI would give, never more. With no such tables, nobody joins any channel.
 */
export class OpenWebUIChannelAccess implements ChannelAccess {
  #schema: { at: number; value: ChannelSchema | null } | null = null;

  constructor(private readonly pool: StrictPool) {}

  async channelsFor(user: { id: string; role: string }): Promise<string[]> {
    const schema = await this.#detect();
    if (!schema) return [];
    const rows = await this.pool.run("ws.channels_for_user", async (c) => await c.unsafe<{ id: string }[]>(schema.sql, [user.id]));
    return [...new Set(rows.map((r) => String(r.id)))];
  }

  async #detect(): Promise<ChannelSchema | null> {
    const known = this.#schema;
    if (known && (known.value !== null || Date.now() - known.at < ABSENT_RECHECK_MS)) return known.value;
    const rows = await this.pool.run("ws.channel_schema", async (c) => await c.unsafe<{ table_name: string; column_name: string }[]>(
      `select table_name, column_name from information_schema.columns
        where table_schema = current_schema() and table_name in ('channel', 'channel_member')`,
    ));
    const cols = (t: string) => new Set(rows.filter((r) => r.table_name === t).map((r) => r.column_name));
    const value = buildQuery(cols("channel"), cols("channel_member"));
    this.#schema = { at: Date.now(), value };
    return value;
  }
}

/** The membership query for the columns that exist; null when the tables are not there. */
function buildQuery(channel: Set<string>, member: Set<string>): ChannelSchema | null {
  if (!channel.has("id") || !channel.has("user_id")) return null;
  const live = ["deleted_at", "archived_at"].filter((c) => channel.has(c)).map((c) => ` and c.${c} is null`).join("");
  const parts = [`select c.id from channel c where c.user_id = $1${live}`];
  if (member.has("channel_id") && member.has("user_id")) {
    const active = member.has("is_active") ? " and m.is_active is not false" : "";
    parts.push(`select c.id from channel_member m join channel c on c.id = m.channel_id where m.user_id = $1${active}${live}`);
  }
  return { sql: parts.join(" union ") };
}
