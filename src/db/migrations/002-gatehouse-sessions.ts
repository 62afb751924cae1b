/**
 * Device sessions: one row per issued token (keyed by its `jti`), so users can list and
 * revoke them. Gatehouse-only, hence the prefix.
 */
export const gatehouseSessions = `
CREATE TABLE IF NOT EXISTS gatehouse_session (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT,
  user_agent TEXT,
  ip TEXT,
  auth_method TEXT NOT NULL,
  oauth_session_id TEXT,
  revoked_at BIGINT
);
CREATE INDEX IF NOT EXISTS idx_gatehouse_session_user ON gatehouse_session (user_id) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_gatehouse_session_oauth ON gatehouse_session (oauth_session_id) WHERE oauth_session_id IS NOT NULL;
`;
