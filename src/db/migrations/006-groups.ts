/**
 * Open WebUI v0.11's group tables (compat/openwebui-groups-ldap.md), plus two alignments of
 * the tables migration 001 creates with Open WebUI's own migrations:
 *
 * - the email index is Open WebUI's `uq_user_email_lower ... WHERE email IS NOT NULL`
 *   (f0bd01a18a3d). Gatehouse's `user_email_lower_idx` only ever came from migration 001, so
 *   it is dropped. The case-sensitive `user_email_key` is dropped only when Gatehouse created
 *   the table: no `alembic_version` (Open WebUI's) and no `migratehistory` (its older peewee
 *   migrations) exist. Gatehouse lower-cases every email it writes, so the lower() index
 *   is the one that matters.
 * - `api_key.user_id REFERENCES "user"(id) ON DELETE CASCADE` (b10670c03dd5), added when no
 *   foreign key on that column exists. Keys whose user is gone are deleted first: they could
 *   never authenticate anyone, and the cascade would have removed them.
 *
 * Every statement is safe to re-run and leaves tables Open WebUI created as they are.
 */
export const gatehouseGroups = `
CREATE TABLE IF NOT EXISTS "group" (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT,
  name TEXT,
  description TEXT,
  data JSON,
  meta JSON,
  permissions JSON,
  created_at BIGINT,
  updated_at BIGINT
);

CREATE TABLE IF NOT EXISTS group_member (
  id TEXT NOT NULL PRIMARY KEY,
  group_id TEXT NOT NULL REFERENCES "group"(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
  created_at BIGINT,
  updated_at BIGINT,
  CONSTRAINT uq_group_member_group_user UNIQUE (group_id, user_id)
);

CREATE UNIQUE INDEX IF NOT EXISTS uq_user_email_lower ON "user" (lower(email)) WHERE email IS NOT NULL;
DROP INDEX IF EXISTS user_email_lower_idx;

DO $gatehouse$
BEGIN
  IF to_regclass('alembic_version') IS NULL AND to_regclass('migratehistory') IS NULL
     AND EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'user_email_key' AND conrelid = '"user"'::regclass AND contype = 'u') THEN
    ALTER TABLE "user" DROP CONSTRAINT user_email_key;
  END IF;

  IF NOT EXISTS (
    SELECT 1 FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
     WHERE c.conrelid = 'api_key'::regclass AND c.contype = 'f' AND a.attname = 'user_id'
  ) THEN
    DELETE FROM api_key k WHERE NOT EXISTS (SELECT 1 FROM "user" u WHERE u.id = k.user_id);
    ALTER TABLE api_key ADD CONSTRAINT api_key_user_id_fkey FOREIGN KEY (user_id) REFERENCES "user"(id) ON DELETE CASCADE;
  END IF;
END
$gatehouse$;
`;
