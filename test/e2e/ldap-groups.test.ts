/**
 * LDAP group sync against slapd's memberof overlay: at each sign-in the user's groups become
 * the CNs of their `memberOf` groups (joined, left, created only with
 * ENABLE_LDAP_GROUP_CREATION); admins are left alone, as in Open WebUI.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Attribute, Change } from "ldapts";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { startSlapd, LDAP_APP, LDAP_GROUPS, LDAP_PEOPLE, LDAP_USERS, type SlapdHandle } from "../harness/slapd.ts";
import { GroupsRepo } from "../../src/groups/groups-repo.ts";

let slapd: SlapdHandle;
const { ada, bob } = LDAP_USERS;

beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd?.stop();
});

async function groupApp(label: string, creation: boolean): Promise<TestApp> {
  return startTestApp({
    DATABASE_URL: await freshDatabaseUrl(label),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix(label),
    DEFAULT_USER_ROLE: "user",
    ENABLE_LDAP: "true",
    LDAP_SERVER_HOST: "127.0.0.1",
    LDAP_SERVER_PORT: String(slapd.port),
    LDAP_USE_TLS: "false",
    LDAP_APP_DN: LDAP_APP.dn,
    LDAP_APP_PASSWORD: LDAP_APP.password,
    LDAP_SEARCH_BASE: LDAP_PEOPLE,
    ENABLE_LDAP_GROUP_MANAGEMENT: "true",
    ENABLE_LDAP_GROUP_CREATION: String(creation),
  });
}

async function signIn(app: TestApp, user: string, password: string): Promise<string> {
  const r = await app.request("/api/v1/auths/ldap", postJson({ user, password }));
  expect(r.status).toBe(200);
  return ((await r.json()) as { id: string }).id;
}

async function groupsOf(app: TestApp, userId: string): Promise<string[]> {
  return (await new GroupsRepo(app.services.pool).forUser(userId)).map((g) => g.name ?? "").sort();
}

async function membership(group: string, operation: "add" | "delete", dn: string): Promise<void> {
  const c = await slapd.admin();
  try {
    await c.modify(`cn=${group},${LDAP_GROUPS}`, [new Change({ operation, modification: new Attribute({ type: "member", values: [dn] }) })]);
  } finally {
    await c.unbind();
  }
}

describe("with ENABLE_LDAP_GROUP_CREATION", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await groupApp("ldapgroups", true);
  });
  afterAll(async () => {
    await app?.close();
  });

  test("the first user (admin) is left alone; a user's directory groups are created and joined", async () => {
    const adaId = await signIn(app, "ada", ada.password);
    expect(await groupsOf(app, adaId)).toEqual([]);
    const bobId = await signIn(app, "bob", bob.password);
    expect(await groupsOf(app, bobId)).toEqual(["staff"]);
  });

  test("joining a group in the directory joins it at the next sign-in; leaving one leaves it; losing the last leaves all", async () => {
    await membership("engineers", "add", bob.dn);
    const bobId = await signIn(app, "bob", bob.password);
    expect(await groupsOf(app, bobId)).toEqual(["engineers", "staff"]);
    await membership("staff", "delete", bob.dn);
    expect(await groupsOf(app, await signIn(app, "bob", bob.password))).toEqual(["engineers"]);
    await membership("engineers", "delete", bob.dn);
    expect(await groupsOf(app, await signIn(app, "bob", bob.password))).toEqual([]);
    expect(app.logText()).toContain('"action":"remove_member"');
  });
});

describe("without ENABLE_LDAP_GROUP_CREATION", () => {
  test("existing groups are joined, missing ones are not created", async () => {
    await membership("staff", "add", bob.dn);
    await membership("engineers", "add", bob.dn);
    const app = await groupApp("ldapgroupsnc", false);
    try {
      const adaId = await signIn(app, "ada", ada.password);
      const repo = new GroupsRepo(app.services.pool);
      await repo.create({ name: "staff", description: "made by an admin", creatorId: adaId });
      const bobId = await signIn(app, "bob", bob.password);
      expect(await groupsOf(app, bobId)).toEqual(["staff"]);
      expect((await repo.list()).groups.map((g) => g.name)).toEqual(["staff"]);
    } finally {
      await app.close();
    }
  });
});
