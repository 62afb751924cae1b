/**
 * GATEHOUSE_ACCESS_GROUPS with LDAP group management against slapd's memberof overlay: a user
 * removed from the access group in the directory is refused at the next sign-in, and the
 * session they already hold is revoked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Attribute, Change } from "ldapts";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { startSlapd, LDAP_APP, LDAP_GROUPS, LDAP_PEOPLE, LDAP_USERS, type SlapdHandle } from "../harness/slapd.ts";

const { ada, bob } = LDAP_USERS;

describe("access groups over LDAP memberOf", () => {
  let slapd: SlapdHandle;
  let app: TestApp;
  beforeAll(async () => {
    slapd = await startSlapd();
    app = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("access_ldap"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("access_ldap"),
      DEFAULT_USER_ROLE: "user", ENABLE_LDAP: "true", LDAP_SERVER_HOST: "127.0.0.1", LDAP_SERVER_PORT: String(slapd.port), LDAP_USE_TLS: "false",
      LDAP_APP_DN: LDAP_APP.dn, LDAP_APP_PASSWORD: LDAP_APP.password, LDAP_SEARCH_BASE: LDAP_PEOPLE,
      ENABLE_LDAP_GROUP_MANAGEMENT: "true", ENABLE_LDAP_GROUP_CREATION: "true", GATEHOUSE_ACCESS_GROUPS: "staff",
    });
  });
  afterAll(async () => {
    await app?.close();
    await slapd?.stop();
  });

  const signIn = (user: string, password: string) => app.request("/api/v1/auths/ldap", postJson({ user, password }));
  const staff = async (operation: "add" | "delete", dn: string) => {
    const c = await slapd.admin();
    try {
      await c.modify(`cn=staff,${LDAP_GROUPS}`, [new Change({ operation, modification: new Attribute({ type: "member", values: [dn] }) })]);
    } finally {
      await c.unbind();
    }
  };

  test("leaving the access group in the directory: the next sign-in is refused 403 and the held session revoked; rejoining lets them in", async () => {
    expect((await signIn("ada", ada.password)).status).toBe(200); // the first user (admin) needs no access group
    const first = await signIn("bob", bob.password); // bob is in cn=staff
    expect(first.status).toBe(200);
    const token = ((await first.json()) as { token: string }).token;
    const me = () => app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${token}` } });
    expect((await me()).status).toBe(200);

    await staff("delete", bob.dn);
    try {
      const refused = await signIn("bob", bob.password);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { detail: string }).detail).toContain("group that grants access");
      expect((await me()).status).toBe(401);
    } finally {
      await staff("add", bob.dn);
    }
    expect((await signIn("bob", bob.password)).status).toBe(200);
    expect((await me()).status).toBe(401);
  });
});
