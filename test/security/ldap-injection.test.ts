/**
 * Attacks on LDAP sign-in, against a real slapd: filter injection through the user value
 * (wildcards, `)(`, backslash escapes, NUL, a 10 kB value), an ambiguous match, the
 * "unauthenticated bind" with an empty password, and a password sign-in into an account
 * LDAP created.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { startSlapd, LDAP_APP, LDAP_GROUPS, LDAP_PEOPLE, LDAP_USERS, type SlapdHandle } from "../harness/slapd.ts";
import { LDAP_AUTH_FAILED } from "../../src/ldap/ldap-errors.ts";

let slapd: SlapdHandle;
let app: TestApp;
let dbUrl: string;
const { ada, bob, twin1 } = LDAP_USERS;

beforeAll(async () => {
  [slapd, dbUrl] = await Promise.all([startSlapd(), freshDatabaseUrl("ldapattack")]);
  app = await startTestApp({
    DATABASE_URL: dbUrl,
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("ldapattack"),
    ENABLE_LDAP: "true",
    LDAP_SERVER_HOST: "127.0.0.1",
    LDAP_SERVER_PORT: String(slapd.port),
    LDAP_USE_TLS: "false",
    LDAP_APP_DN: LDAP_APP.dn,
    LDAP_APP_PASSWORD: LDAP_APP.password,
    LDAP_SEARCH_BASE: LDAP_PEOPLE,
    // The operator admits engineers only (ada and carol; bob is staff, not an engineer).
    LDAP_SEARCH_FILTER: `(memberOf=cn=engineers,${LDAP_GROUPS})`,
    GATEHOUSE_SIGNIN_RATE_LIMIT_PER_EMAIL: "1000",
    GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "1000",
  });
});
afterAll(async () => {
  await app?.close();
  await slapd?.stop();
});

const ldap = (user: string, password: string) => app.request("/api/v1/auths/ldap", postJson({ user, password }));

async function refused(user: string, password: string): Promise<void> {
  const r = await ldap(user, password);
  const body = (await r.json()) as Record<string, unknown>;
  expect({ user: user.slice(0, 40), status: r.status, body }).toEqual({ user: user.slice(0, 40), status: 400, body: { detail: LDAP_AUTH_FAILED } });
  expect(r.headers.getSetCookie()).toEqual([]);
}

describe("filter injection through the user value is escaped, never interpreted", () => {
  test("control: ada signs in; bob (not an engineer) is kept out by the operator's filter", async () => {
    expect((await ldap("ada", ada.password)).status).toBe(200);
    await refused("bob", bob.password);
  });

  test("a wildcard never matches: `a*` with ada's password is refused", async () => {
    await refused("a*", ada.password);
    await refused("*", ada.password);
    await refused("*da", ada.password);
  });

  test("`)(` cannot add a branch that bypasses the operator's filter", async () => {
    await refused(`bob)(|(uid=bob`, bob.password);
    await refused(`bob)(uid=*))(|(uid=*`, bob.password);
  });

  test("a backslash escape is not an alias of a name (`ad\\61` is not `ada`, so per-name limits hold)", async () => {
    await refused("ad\\61", ada.password);
    await refused("\\61da", ada.password);
    await refused("ada\\", ada.password);
  });

  test("NUL and other control characters are refused", async () => {
    await refused("ada\u0000", ada.password);
    await refused("ada\u0000)(uid=*", ada.password);
    await refused("a\nda", ada.password);
  });

  test("a 10 kB value is refused quickly (400, not 422, 500 or a hang)", async () => {
    const started = performance.now();
    await refused("*a".repeat(5120), ada.password);
    await refused("a".repeat(10_240), ada.password);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe("bypasses", () => {
  test("two entries with the same name: refused, not the first one", async () => {
    await refused("twin", twin1.password);
  });

  test("an empty password is refused before any bind (the directory would accept it as an unauthenticated bind)", async () => {
    await refused("ada", "");
    await refused("carol", "");
  });

  test("an LDAP-created account has an unusable argon2id hash and refuses password sign-in", async () => {
    const sql = postgres(dbUrl, { max: 1 });
    try {
      const [row] = await sql<{ password: string }[]>`select a.password from auth a join "user" u on u.id = a.id where u.email = ${ada.mail!.toLowerCase()}`;
      expect(row?.password).toMatch(/^\$argon2id\$/);
    } finally {
      await sql.end();
    }
    for (const password of [ada.password, "", "None"]) {
      const r = await app.request("/api/v1/auths/signin", postJson({ email: ada.mail, password }));
      expect({ password, status: r.status }).toEqual({ password, status: 400 });
    }
  });
});
