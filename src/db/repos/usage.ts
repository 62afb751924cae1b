import type { StrictPool } from "../pool.ts";

/** How an upstream call ended (`started`: not yet; `interrupted`: its instance died first). */
export type UsageOutcome =
  | "started"
  | "interrupted"
  | "completed"
  | "client_closed"
  | "upstream_error"
  | "upstream_timeout"
  | "upstream_unreachable"
  | "upstream_malformed"
  /** This instance ran out of descriptors/ports before reaching the upstream. */
  | "local_exhaustion";

/** A `gatehouse_usage` row. */
export interface UsageRecord {
  id: string;
  user_id: string;
  model: string;
  /** Index of the upstream in OPENAI_API_BASE_URLS (0 for OPENAI_API_BASE_URL). */
  upstream: number;
  stream: boolean;
  /** As the upstream reported them; null when it did not. */
  prompt_tokens: number | null;
  completion_tokens: number | null;
  /** Epoch seconds. */
  started_at: number;
  duration_ms: number;
  /** Time to the upstream's response headers (non-streaming) or first event (streaming). */
  first_byte_ms: number | null;
  upstream_status: number | null;
  outcome: UsageOutcome;
}

const COLUMNS = "id, user_id, model, upstream, stream, prompt_tokens, completion_tokens, started_at, duration_ms, first_byte_ms, upstream_status, outcome";
/** What a call's end writes over its `started` (or wrongly `interrupted`) row. */
const END_COLUMNS = ["prompt_tokens", "completion_tokens", "duration_ms", "first_byte_ms", "upstream_status", "outcome"];

/** Usage rows of the chat gateway. */
export class UsageRepo {
  /** @param instanceId written into each row, so rows a dead instance left `started` can be found. */
  constructor(private readonly pool: StrictPool, private readonly instanceId: string | null = null) {}

  /**
   * Writes many rows in one statement (one checkout). A row whose id exists is completed
   * (its end written over a `started` row); a late `started` never overwrites an end. Re-running is harmless.
   */
  insertMany(rows: readonly UsageRecord[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.pool.run("usage.insert", async (c) => {
      await c.unsafe(
        `insert into gatehouse_usage (${COLUMNS}, instance_id)
         select ${COLUMNS}, $2::text from jsonb_to_recordset($1::text::jsonb) as r(
           id text, user_id text, model text, upstream int, stream boolean, prompt_tokens int, completion_tokens int,
           started_at bigint, duration_ms int, first_byte_ms int, upstream_status int, outcome text)
         on conflict (id) do update set ${END_COLUMNS.map((col) => `${col} = excluded.${col}`).join(", ")}
         where gatehouse_usage.outcome in ('started', 'interrupted') and excluded.outcome <> 'started'`,
        [JSON.stringify(rows), this.instanceId],
      );
    });
  }

  /** The user's most recent rows, newest first. */
  recent(userId: string, limit = 50): Promise<UsageRecord[]> {
    return this.pool.run("usage.recent", async (c) =>
      (await c.unsafe<UsageRecord[]>(
        `select ${COLUMNS} from gatehouse_usage where user_id = $1 order by started_at desc, id limit $2`,
        [userId, limit],
      )).map(normalize));
  }
}

/** BIGINT arrives as a string from postgres.js. */
function normalize(r: UsageRecord): UsageRecord {
  return { ...r, started_at: Number(r.started_at) };
}
