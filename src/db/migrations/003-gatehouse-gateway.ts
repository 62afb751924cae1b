/**
 * The chat gateway's tables (Gatehouse-only, hence the prefix).
 *
 * `gatehouse_model_access`: one row per grant. `user_id = '*'` grants a model to every user,
 * `model_id = '*'` grants every model to a user. Admins need no rows: they see every model.
 *
 * `gatehouse_usage`: one row per upstream call, written after the call ended (in batches, so a
 * burst of streams ending together costs a handful of checkouts). Timestamps follow the other
 * tables (epoch seconds); durations are milliseconds.
 */
export const gatehouseGateway = `
CREATE TABLE IF NOT EXISTS gatehouse_model_access (
  user_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  granted_at BIGINT NOT NULL,
  granted_by TEXT,
  PRIMARY KEY (user_id, model_id)
);
CREATE TABLE IF NOT EXISTS gatehouse_usage (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  model TEXT NOT NULL,
  upstream INTEGER NOT NULL,
  stream BOOLEAN NOT NULL,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  started_at BIGINT NOT NULL,
  duration_ms INTEGER NOT NULL,
  first_byte_ms INTEGER,
  upstream_status INTEGER,
  outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_gatehouse_usage_user ON gatehouse_usage (user_id, started_at);
`;
