/** The admin CLI as a real process against the real Postgres and Redis. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader } from "jose";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { waitFor } from "../helpers/wait.ts";

const root = new URL("../..", import.meta.url).pathname;
const SECRET = "cli-test-secret-key-0123456789abcdef";
let env: Record<string, string>;
let app: TestApp;
let dataDir: string;

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

/** Runs `bun src/cli.ts ...args` with `env` (+ extra), stdin optional. */
async function cli(args: string[], extra: Record<string, string> = {}, stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "src/cli.ts", ...args], {
    cwd: root, env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", ...env, ...extra },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, out, err };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "gatehouse-cli-"));
  env = { DATABASE_URL: await freshDatabaseUrl("cli"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("cli"), WEBUI_SECRET_KEY: SECRET, GATEHOUSE_DATA_DIR: dataDir };
  app = await startTestApp({ ...env });
});
afterAll(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("usage", () => {
  test("no command → usage, exit 2; unknown command → exit 2 naming it; help → exit 0", async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.out).toContain("usage: gatehouse <command>");
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'frobnicate'");
    expect((await cli(["help"])).code).toBe(0);
  });

  test("a bad configuration value stops with exit 2 and the variable's message, like the server", async () => {
    const r = await cli(["migrate"], { DATABASE_POOL_SIZE: "abc" });
    expect(r.code).toBe(2);
    expect(r.err).toContain("DATABASE_POOL_SIZE");
  });
});

describe("migrate", () => {
  test("on a fresh database applies every migration, then reports none pending", async () => {
    const fresh = await freshDatabaseUrl("cli_migrate");
    const first = await cli(["migrate"], { DATABASE_URL: fresh });
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/migrations applied now: 001/);
    const second = await cli(["migrate"], { DATABASE_URL: fresh });
    expect(second.out).toContain("migrations applied now: none pending");
  });

  test("without DATABASE_URL it refuses (exit 2) instead of opening the embedded database a server may hold", async () => {
    const { DATABASE_URL: _, ...rest } = env;
    const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "src/cli.ts", "migrate"], { cwd: root, env: { PATH: process.env["PATH"] ?? "", ...rest }, stdout: "pipe", stderr: "pipe" });
    const err = await new Response(proc.stderr).text();
    expect(await proc.exited).toBe(2);
    expect(err).toContain("--embedded");
  });
});

describe("create-admin, list-sessions, revoke-user", () => {
  test("create-admin takes the password from stdin, env or --password (with a warning), refuses a taken email", async () => {
    const made = await cli(["create-admin", "--email", "Root@Example.com", "--name", "Root"], {}, "cli-admin-password-1\n");
    expect(made.code).toBe(0);
    expect(made.out).toContain("created admin root@example.com");
    expect(made.out + made.err).not.toContain("cli-admin-password-1");
    const r = await app.request("/api/v1/auths/signin", postJson({ email: "root@example.com", password: "cli-admin-password-1" }));
    expect(r.status).toBe(200);
    expect(((await r.json()) as { role: string }).role).toBe("admin");

    const flagged = await cli(["create-admin", "--email", "second@example.com", "--name", "Second", "--password", "cli-flag-password-3"]);
    expect(flagged.code).toBe(0);
    expect(flagged.err).toContain("--password stays in shell history");
    expect(flagged.out + flagged.err).not.toContain("cli-flag-password-3");
    const row = await app.services.pool.run("t.admin", async (c) =>
      (await c<{ role: string; name: string; password: string }[]>`select u.role, u.name, a.password from "user" u join auth a on a.id = u.id where u.email = 'second@example.com'`)[0]!);
    expect(row).toMatchObject({ role: "admin", name: "Second" });
    expect(row.password).toStartWith("$argon2id$");
    expect(flagged.out).not.toContain(row.password);
    expect((await app.request("/api/v1/auths/signin", postJson({ email: "second@example.com", password: "cli-flag-password-3" }))).status).toBe(200);

    const empty = await cli(["create-admin", "--email", "empty@example.com"], { GATEHOUSE_ADMIN_PASSWORD: "" }, "");
    expect(empty.code).toBe(2);
    const taken = await cli(["create-admin", "--email", "ROOT@example.com"], { GATEHOUSE_ADMIN_PASSWORD: "another-password-2" });
    expect(taken.code).toBe(1);
    expect(taken.err.trim().split("\n")).toEqual(["gatehouse create-admin: an account with root@example.com already exists"]);
  });

  test("list-sessions shows the live sessions (table and --json); revoke-user ends them on the running server", async () => {
    const signIn = async (ua: string) => {
      const r = await app.request("/api/v1/auths/signin", { ...postJson({ email: "root@example.com", password: "cli-admin-password-1" }), headers: { "content-type": "application/json", "user-agent": ua } });
      return ((await r.json()) as { token: string }).token;
    };
    const t1 = await signIn("cli-test-agent-one");
    const t2 = await signIn("cli-test-agent-two");
    const table = await cli(["list-sessions", "root@example.com"]);
    expect(table.code).toBe(0);
    expect(table.out).toContain("live sessions for root@example.com");
    expect(table.out).toContain("cli-test-agent-one");
    const json = JSON.parse((await cli(["list-sessions", "root@example.com", "--json"])).out) as Array<{ user_agent: string }>;
    expect(json.map((s) => s.user_agent)).toEqual(expect.arrayContaining(["cli-test-agent-one", "cli-test-agent-two"]));
    expect((await app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${t1}` } })).status).toBe(200);

    const revoked = await cli(["revoke-user", "root@example.com"]);
    expect(revoked.code).toBe(0);
    for (const t of [t1, t2]) {
      const status = await waitFor("the token to stop working", async () => {
        const s = (await app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${t}` } })).status;
        return s !== 200 ? s : undefined;
      }, 1000);
      expect(status).toBe(401);
    }
    expect((await cli(["list-sessions", "root@example.com"])).out).toContain("0 live sessions");
    const all = await cli(["list-sessions", "root@example.com", "--all"]);
    expect(all.out).toMatch(/^id +method +created +last_seen +expires +revoked +ip +user_agent$/m);
    const allJson = JSON.parse((await cli(["list-sessions", "root@example.com", "--all", "--json"])).out) as Array<{ user_agent: string; revoked: string; live: boolean }>;
    const revokedOnes = allJson.filter((s) => s.user_agent.startsWith("cli-test-agent-"));
    expect(revokedOnes).toHaveLength(2);
    for (const s of revokedOnes) {
      expect(s.live).toBe(false);
      expect(s.revoked).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    const unknown = await cli(["revoke-user", "nobody@example.com"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("no user with email nobody@example.com");
  });

  test("revoke-user without REDIS_URL refuses and says why (the server's revocations are in its memory)", async () => {
    const { REDIS_URL: _, ...rest } = env;
    const proc = Bun.spawn([`${root}node_modules/.bin/bun`, "src/cli.ts", "revoke-user", "root@example.com"], { cwd: root, env: { PATH: process.env["PATH"] ?? "", ...rest }, stdout: "pipe", stderr: "pipe" });
    const err = await new Response(proc.stderr).text();
    expect(await proc.exited).toBe(2);
    expect(err).toContain("REDIS_URL is not set");
  });
});

describe("rotate-jwt-key", () => {
  test("HS256 refuses with exit 2 and explains", async () => {
    const r = await cli(["rotate-jwt-key"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("HS256");
  });

  test("EdDSA: stage (verify-only), then promote (signs) with the old key retired; tokens of the old key keep working", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-jwt-"));
    const ed = { ...env, GATEHOUSE_JWT_ALG: "EdDSA", GATEHOUSE_DATA_DIR: dir, REDIS_KEY_PREFIX: uniquePrefix("cli-jwt") };
    try {
      const before = await startTestApp(ed);
      const oldToken = ((await (await before.request("/api/v1/auths/signin", postJson({ email: "root@example.com", password: "cli-admin-password-1" }))).json()) as { token: string }).token;
      const oldKid = kidOf(oldToken);
      await before.close();
      const file = join(dir, "jwt-signing-keys.json");
      const staged = await cli(["rotate-jwt-key"], ed);
      expect(staged.code).toBe(0);
      expect(staged.out).toContain("staged a new key");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const afterStage = await startTestApp(ed);
      const jwks1 = (await (await afterStage.request("/.well-known/jwks.json")).json()) as { keys: Array<{ kid: string }> };
      expect(jwks1.keys).toHaveLength(2);
      const stillOld = ((await (await afterStage.request("/api/v1/auths/signin", postJson({ email: "root@example.com", password: "cli-admin-password-1" }))).json()) as { token: string }).token;
      expect(kidOf(stillOld)).toBe(oldKid);
      await afterStage.close();
      const promoted = await cli(["rotate-jwt-key"], ed);
      expect(promoted.out).toContain("promoted the staged key");
      const keys = (JSON.parse(readFileSync(file, "utf8")) as { keys: Array<{ notAfter?: number }> }).keys;
      expect(keys).toHaveLength(2);
      expect(typeof keys[1]!.notAfter).toBe("number");
      const afterPromote = await startTestApp(ed);
      const fresh = ((await (await afterPromote.request("/api/v1/auths/signin", postJson({ email: "root@example.com", password: "cli-admin-password-1" }))).json()) as { token: string }).token;
      expect(kidOf(fresh)).not.toBe(oldKid);
      expect((await afterPromote.request("/api/v1/auths/", { headers: { authorization: `Bearer ${oldToken}` } })).status).toBe(200);
      expect((await afterPromote.request("/api/v1/auths/", { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
      await afterPromote.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("doctor", () => {
  test("all reachable: exit 0, one line per check, clock skew against Postgres and Redis", async () => {
    const r = await cli(["doctor"], { OPENAI_API_BASE_URL: "http://127.0.0.1:9/v1" });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK {3}postgres: PostgreSQL 15/m);
    expect(r.out).toMatch(/^OK {3}postgres clock: clock differs by -?\d+ ms/m);
    expect(r.out).toMatch(/^OK {3}redis clock: clock differs by -?\d+ ms/m);
    expect(r.out).toMatch(/^0 failed/m);
  });

  test("problems are FAIL/WARN lines with fixes, and exit 1", async () => {
    const r = await cli(["doctor"], {
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", WEBUI_SECRET_KEY: "short", WEBUI_AUTH_COOKIE_SAME_SITE: "none", JWT_EXPIRES_IN: "-1",
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL postgres: /m);
    expect(r.out).toMatch(/^WARN WEBUI_SECRET_KEY: only 5 characters\n {5}fix: /m);
    expect(r.out).toMatch(/^FAIL cookies: SameSite=None without Secure/m);
    expect(r.out).toMatch(/^WARN JWT_EXPIRES_IN: tokens never expire/m);
    expect(r.out).not.toContain("short\n");
  });
});
