/**
 * Second factors (issue 18): TOTP secrets (Fernet-encrypted) with the last time step used,
 * so a code is accepted once across instances; hashed single-use recovery codes; passkeys;
 * and the authentication methods (`amr`) each device session was made with.
 * Gatehouse-only tables.
 */
export const gatehouseMfa = `
CREATE TABLE IF NOT EXISTS gatehouse_mfa_totp (
  user_id TEXT PRIMARY KEY,
  secret_enc TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  confirmed_at BIGINT,
  last_step BIGINT
);
CREATE TABLE IF NOT EXISTS gatehouse_mfa_recovery_code (
  user_id TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  used_at BIGINT,
  PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE IF NOT EXISTS gatehouse_passkey (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  public_key TEXT NOT NULL,
  counter BIGINT NOT NULL DEFAULT 0,
  transports TEXT,
  device_type TEXT,
  backed_up BOOLEAN NOT NULL DEFAULT FALSE,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT
);
CREATE INDEX IF NOT EXISTS idx_gatehouse_passkey_user ON gatehouse_passkey (user_id);
ALTER TABLE gatehouse_session ADD COLUMN IF NOT EXISTS amr TEXT;
`;
