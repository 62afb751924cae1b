/**
 * The durable record of revocations (issue 12, hole 2): Redis and each instance's replica
 * are copies of it, re-seeded from here after a restart or a Redis that lost its data.
 * `changed_ms` is the database's clock at the last change, so instances can read what
 * changed since their last look while the store is unreachable. Gatehouse-only tables.
 */
export const gatehouseRevocations = `
CREATE TABLE IF NOT EXISTS gatehouse_revoked_token (
  token_id TEXT PRIMARY KEY,
  user_id TEXT,
  expires_at BIGINT,
  revoked_at BIGINT NOT NULL,
  changed_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_gatehouse_revoked_token_changed ON gatehouse_revoked_token (changed_ms);
CREATE INDEX IF NOT EXISTS idx_gatehouse_revoked_token_expires ON gatehouse_revoked_token (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS gatehouse_user_revocation (
  user_id TEXT PRIMARY KEY,
  revoked_at BIGINT,
  keys_revoked_at BIGINT,
  changed_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_gatehouse_user_revocation_changed ON gatehouse_user_revocation (changed_ms);
`;
