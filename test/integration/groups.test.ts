import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { StrictPool } from "../../src/db/pool.ts";
import { migrate, MIGRATIONS } from "../../src/db/migrate.ts";
import { gatehouseGroups } from "../../src/db/migrations/006-groups.ts";
import { createRegistry } from "../../src/observability/registry.ts";
import { createDbMetrics } from "../../src/observability/db-metrics.ts";
import { AuditTrail } from "../../src/observability/audit-trail.ts";
import { UsersRepo } from "../../src/db/repos/users.ts";
import { GroupsRepo } from "../../src/groups/groups-repo.ts";
import { GroupSync } from "../../src/groups/group-sync.ts";
import { blockedGroupMatcher } from "../../src/config/group-patterns.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { freshDatabaseUrl } from "../helpers/real-services.ts";

const pools: StrictPool[] = [];
const raws: postgres.Sql[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close(1)));
  await Promise.all(raws.map((r) => r.end({ timeout: 1 })));
});

async function database(label: string) {
  const url = await freshDatabaseUrl(label);
  const logs = captureLogger();
  const registry = createRegistry({ defaultMetrics: false });
  const pool = new StrictPool({ url, max: 3, timeoutMs: 5000, maxWaiters: 100, leakThresholdMs: 60_000, prepare: true }, createDbMetrics(registry), logs.log);
  pools.push(pool);
  const raw = postgres(url, { max: 1, onnotice: () => {} });
  raws.push(raw);
  return { pool, raw, logs, registry };
}

async function schemaFacts(raw: postgres.Sql) {
  const indexes = (await raw<{ indexname: string; indexdef: string }[]>`select indexname, indexdef from pg_indexes where tablename = 'user'`);
  const constraints = (await raw<{ conname: string; def: string; rel: string }[]>`
    select conname, pg_get_constraintdef(oid) as def, conrelid::regclass::text as rel from pg_constraint where conrelid in ('"user"'::regclass, 'api_key'::regclass, coalesce(to_regclass('group_member'), 0::regclass))`);
  return {
    emailIndexes: indexes.filter((i) => /lower\(/i.test(i.indexdef)).map((i) => i.indexname).sort(),
    uqLower: indexes.find((i) => i.indexname === "uq_user_email_lower")?.indexdef ?? "",
    userUniques: constraints.filter((c) => c.rel === '"user"' && c.def.startsWith("UNIQUE")).map((c) => c.conname),
    apiKeyFk: constraints.find((c) => c.rel === "api_key" && c.def.startsWith("FOREIGN KEY"))?.def ?? "",
    memberFks: constraints.filter((c) => c.rel === "group_member" && c.def.startsWith("FOREIGN KEY")).map((c) => c.def).sort(),
  };
}

/** Open WebUI v0.11's tables as its alembic migrations leave them (compat/openwebui-schema.md, openwebui-groups-ldap.md). */
const OPEN_WEBUI_SCHEMA = `
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('f0bd01a18a3d');
CREATE TABLE "user" (id VARCHAR NOT NULL PRIMARY KEY, email VARCHAR, username VARCHAR(50), role VARCHAR NOT NULL DEFAULT 'pending', name VARCHAR NOT NULL,
  profile_image_url TEXT, info JSON, settings JSON, oauth JSON, scim JSON, last_active_at BIGINT, updated_at BIGINT, created_at BIGINT);
CREATE UNIQUE INDEX uq_user_email_lower ON "user" (lower(email)) WHERE email IS NOT NULL;
CREATE TABLE auth (id VARCHAR NOT NULL PRIMARY KEY, email VARCHAR, password TEXT, active BOOLEAN);
CREATE TABLE api_key (id TEXT NOT NULL PRIMARY KEY, user_id TEXT NOT NULL REFERENCES "user"(id) ON DELETE CASCADE, key TEXT NOT NULL UNIQUE, data JSON,
  expires_at BIGINT, last_used_at BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE TABLE "group" (id TEXT NOT NULL PRIMARY KEY, user_id TEXT, name TEXT, description TEXT, data JSON, meta JSON, permissions JSON, created_at BIGINT, updated_at BIGINT);
CREATE TABLE group_member (id TEXT NOT NULL PRIMARY KEY, group_id TEXT NOT NULL REFERENCES "group"(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES "user"(id) ON DELETE CASCADE, created_at BIGINT, updated_at BIGINT,
  CONSTRAINT uq_group_member_group_user UNIQUE (group_id, user_id));
INSERT INTO "user" (id, email, role, name, created_at, updated_at) VALUES ('owui-1', 'owui@example.com', 'user', 'Owui', 1, 1);
INSERT INTO "group" VALUES ('g-owui', 'owui-1', 'written-by-owui', 'd', '{"config":{"share":true}}', null, null, 1, 1);
INSERT INTO group_member VALUES ('m-1', 'g-owui', 'owui-1', 1, 1);
`;

describe("migration 006", () => {
  test("fresh database: Open WebUI's group tables, its email index only, api_key cascades; re-running changes nothing", async () => {
    const { pool, raw } = await database("groups_fresh");
    expect(await migrate(pool)).toContain("006-groups");
    const facts = await schemaFacts(raw);
    expect(facts.emailIndexes).toEqual(["uq_user_email_lower"]);
    expect(facts.uqLower).toMatch(/WHERE \(email IS NOT NULL\)/);
    expect(facts.userUniques).toEqual([]);
    expect(facts.apiKeyFk).toBe('FOREIGN KEY (user_id) REFERENCES "user"(id) ON DELETE CASCADE');
    expect(facts.memberFks).toEqual([
      'FOREIGN KEY (group_id) REFERENCES "group"(id) ON DELETE CASCADE',
      'FOREIGN KEY (user_id) REFERENCES "user"(id) ON DELETE CASCADE',
    ]);
    await raw.unsafe(gatehouseGroups); // the SQL itself is idempotent too
    expect(await schemaFacts(raw)).toEqual(facts);
    expect(await migrate(pool)).toEqual([]);
    // Case-insensitive uniqueness still holds.
    const users = new UsersRepo(pool);
    await users.insert({ id: "a", email: "Case@Example.com", name: "A", role: "user", passwordHash: "x" });
    await expect(users.insert({ id: "b", email: "case@example.COM", name: "B", role: "user", passwordHash: "x" })).rejects.toMatchObject({ code: "23505" });
  });

  test("existing Gatehouse database (001–003 applied, orphaned key): 006 adds the cascade and drops the redundant indexes", async () => {
    const { pool, raw } = await database("groups_existing");
    await migrate(pool, MIGRATIONS.filter((m) => m.id !== "006-groups"));
    expect((await schemaFacts(raw)).emailIndexes).toEqual(["user_email_lower_idx"]);
    expect((await schemaFacts(raw)).userUniques).toEqual(["user_email_key"]);
    await raw`insert into "user" (id, email, role, name) values ('u1', 'u1@example.com', 'user', 'U1')`;
    await raw`insert into api_key (id, user_id, key, created_at, updated_at) values ('key_u1', 'u1', 'sk-1', 1, 1), ('key_gone', 'gone', 'sk-2', 1, 1)`;
    expect(await migrate(pool)).toEqual(["006-groups"]);
    const facts = await schemaFacts(raw);
    expect(facts.emailIndexes).toEqual(["uq_user_email_lower"]);
    expect(facts.userUniques).toEqual([]);
    expect(facts.apiKeyFk).toContain("ON DELETE CASCADE");
    expect((await raw`select id from api_key order by id`).map((r) => r["id"])).toEqual(["key_u1"]);
    await raw`delete from "user" where id = 'u1'`;
    expect((await raw`select count(*)::int as n from api_key`)[0]!["n"]).toBe(0);
  });

  test("Open WebUI's database: nothing of Open WebUI's is altered, no second email index, its groups read back", async () => {
    const { pool, raw } = await database("groups_owui");
    await raw.unsafe(OPEN_WEBUI_SCHEMA);
    const before = await schemaFacts(raw);
    await migrate(pool);
    const after = await schemaFacts(raw);
    expect(after).toEqual(before);
    expect(after.emailIndexes).toEqual(["uq_user_email_lower"]);
    const groups = new GroupsRepo(pool);
    const [g] = await groups.forUser("owui-1");
    expect(g).toMatchObject({ id: "g-owui", name: "written-by-owui", user_id: "owui-1", data: { config: { share: true } }, member_count: 1 });
  });
});

describe("groups repository and sync", () => {
  test("sync adds, removes, creates only when allowed, never touches blocked groups; rows are Open WebUI's shape", async () => {
    const { pool, raw, logs, registry } = await database("groups_sync");
    await migrate(pool);
    const users = new UsersRepo(pool);
    await users.insert({ id: "u1", email: "u1@example.com", name: "U1", role: "user", passwordHash: "x" });
    const repo = new GroupsRepo(pool);
    const sync = new GroupSync(repo, new AuditTrail(logs.log, registry));
    const blocked = blockedGroupMatcher(["admins", "sys-*", "^secret-[0-9]+$"]);

    // Creation off: unknown groups are not created and nothing is joined.
    expect(await sync.syncUserGroups("u1", ["eng", "ops"], { create: false, blocked, source: "oauth" })).toEqual({ added: [], removed: [], created: [] });
    await repo.create({ name: "ops", description: "", creatorId: "u1" });
    const admins = await repo.create({ name: "admins", description: "", creatorId: "u1" });
    expect(await repo.addMembers(admins.id, ["u1", "nobody"])).toEqual(["u1"]);

    let r = await sync.syncUserGroups("u1", [" eng ", "ops", "ops", "", "sys-core", "secret-42"], { create: true, blocked, source: "oauth" });
    expect(r.created).toEqual(["eng"]);
    expect(r.added.sort()).toEqual(["eng", "ops"]);
    expect(r.removed).toEqual([]); // admins is blocked: kept although not in the claim
    expect((await repo.forUser("u1")).map((g) => g.name).sort()).toEqual(["admins", "eng", "ops"]);
    expect((await repo.list({ name: "sys-core" })).total).toBe(0);

    r = await sync.syncUserGroups("u1", ["eng"], { create: true, blocked, source: "oauth" });
    expect(r).toEqual({ added: [], removed: ["ops"], created: [] });
    r = await sync.syncUserGroups("u1", [], { create: false, source: "trusted_header" }); // no blocked list now
    expect(r.removed.sort()).toEqual(["admins", "eng"]);
    expect(await repo.forUser("u1")).toEqual([]);

    const [row] = await raw`select * from "group" where name = 'eng'`;
    expect(row).toMatchObject({ user_id: "u1", description: "Group 'eng' created automatically via OAuth.", data: { config: { share: true } } });
    expect(typeof row!["id"]).toBe("string");
    expect(logs.text()).toContain('"audit":"group_change"');
    expect(logs.text()).toContain('"action":"remove_member"');

    // Concurrent first logins naming the same new group create it once.
    await users.insert({ id: "u2", email: "u2@example.com", name: "U2", role: "user", passwordHash: "x" });
    await Promise.all(["u1", "u2"].map((id) => sync.syncUserGroups(id, ["fresh"], { create: true, source: "oauth" })));
    const fresh = await repo.list({ name: "fresh" });
    expect(fresh.total).toBe(1);
    expect(fresh.groups[0]!.member_count).toBe(2);
    expect(await repo.setMembers(fresh.groups[0]!.id, ["u2"])).toEqual({ added: [], removed: ["u1"] });
    expect(await repo.delete(fresh.groups[0]!.id)).toBe(true);
  });
});
