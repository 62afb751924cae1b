/**
 * Usage rows that survive a crash (Gatehouse-only tables, hence the prefix).
 *
 * A call's `gatehouse_usage` row is now written when the call starts (`outcome = 'started'`,
 * with the writing instance in `instance_id`) and completed when it ends. Instances record a
 * heartbeat in `gatehouse_instances`; the rows left `started` by an instance whose heartbeat
 * stopped are closed as `interrupted` by any other instance. Idempotent.
 */
export const gatehouseUsageLiveness = `
ALTER TABLE gatehouse_usage ADD COLUMN IF NOT EXISTS instance_id TEXT;
CREATE INDEX IF NOT EXISTS idx_gatehouse_usage_open ON gatehouse_usage (instance_id) WHERE outcome = 'started';
CREATE TABLE IF NOT EXISTS gatehouse_instances (
  instance_id TEXT PRIMARY KEY,
  started_at_ms BIGINT NOT NULL,
  heartbeat_at_ms BIGINT NOT NULL
);
`;
