/**
 * Open WebUI v0.11's tables, with the names and types Open WebUI's own migrations give
 * them (compat/openwebui-schema.md). `IF NOT EXISTS` throughout: when Open WebUI created
 * them first, they are left exactly as they are.
 */
export const openWebUITables = `
CREATE TABLE IF NOT EXISTS "user" (
  id VARCHAR NOT NULL PRIMARY KEY,
  email VARCHAR NOT NULL,
  username VARCHAR(50),
  role VARCHAR NOT NULL DEFAULT 'pending',
  name VARCHAR NOT NULL,
  profile_image_url TEXT,
  profile_banner_image_url TEXT,
  bio TEXT,
  gender TEXT,
  date_of_birth DATE,
  timezone VARCHAR,
  presence_state VARCHAR,
  status_emoji VARCHAR,
  status_message TEXT,
  status_expires_at BIGINT,
  info JSON,
  variables JSON,
  settings JSON,
  oauth JSON,
  scim JSON,
  last_active_at BIGINT,
  updated_at BIGINT,
  created_at BIGINT,
  CONSTRAINT user_email_key UNIQUE (email)
);
CREATE UNIQUE INDEX IF NOT EXISTS user_email_lower_idx ON "user" (lower(email));

CREATE TABLE IF NOT EXISTS auth (
  id VARCHAR NOT NULL PRIMARY KEY,
  email VARCHAR,
  password TEXT,
  active BOOLEAN
);

CREATE TABLE IF NOT EXISTS oauth_session (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
  provider TEXT NOT NULL,
  token TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_oauth_session_user_id ON oauth_session (user_id);
CREATE INDEX IF NOT EXISTS idx_oauth_session_expires_at ON oauth_session (expires_at);
CREATE INDEX IF NOT EXISTS idx_oauth_session_user_provider ON oauth_session (user_id, provider);

CREATE TABLE IF NOT EXISTS api_key (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  key TEXT NOT NULL UNIQUE,
  data JSON,
  expires_at BIGINT,
  last_used_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
`;
