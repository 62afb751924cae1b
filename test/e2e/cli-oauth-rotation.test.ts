/**
 * OAuth session key rotation on 10,000 real rows: interrupted by --limit, resumed, nothing
 * lost; concurrent changes are compare-and-swapped, not overwritten; servers read rows
 * under both keys meanwhile.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { fernetDecrypt, fernetEncrypt } from "../../src/crypto/fernet.ts";
import { rotateOAuthEncryptionKey } from "../../src/oauth/encryption-key-rotation.ts";
import postgres from "postgres";

const root = new URL("../..", import.meta.url).pathname;
const OLD = "old-oauth-passphrase-0123456789abcdef";
const NEW = "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtbmV3LWtleSE=";
const ROWS = 10_000;
let app: TestApp;
let env: Record<string, string>;
let oldKey: string;

const plaintextOf = (i: number) => JSON.stringify({ access_token: `at-${i}`, expires_at: 2_000_000_000 + i, issued_at: 1_700_000_000 });

const spawnCli = (args: string[]) => Bun.spawn([`${root}node_modules/.bin/bun`, "src/cli.ts", ...args], {
  cwd: root, env: { PATH: process.env["PATH"] ?? "", ...env }, stdout: "pipe", stderr: "pipe",
});

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const proc = spawnCli(args);
  const out = await new Response(proc.stdout).text();
  return { code: await proc.exited, out: out + (await new Response(proc.stderr).text()) };
}

beforeAll(async () => {
  env = {
    DATABASE_URL: await freshDatabaseUrl("rotation"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("rotation"),
    WEBUI_SECRET_KEY: "rotation-secret-key-0123456789abcdef",
    OAUTH_SESSION_TOKEN_ENCRYPTION_KEY: NEW, GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS: OLD,
  };
  app = await startTestApp(env);
  const { deriveFernetKey } = await import("../../src/crypto/fernet.ts");
  oldKey = await deriveFernetKey(OLD);
  await app.services.pool.run("seed.user", async (c) => {
    await c`insert into "user" (id, email, name, role, last_active_at, created_at, updated_at) values ('u1', 'u1@example.com', 'U1', 'user', 0, 0, 0)`;
  });
  const tokens = await Promise.all(Array.from({ length: ROWS }, (_, i) => fernetEncrypt(oldKey, plaintextOf(i))));
  for (let start = 0; start < ROWS; start += 2000) {
    const ids = tokens.slice(start, start + 2000).map((_, j) => `row-${String(start + j).padStart(5, "0")}`);
    await app.services.pool.run("seed.rows", async (c) => {
      await c`insert into oauth_session (id, user_id, provider, token, expires_at, created_at, updated_at)
              select id, 'u1', 'oidc', token, 2000000000, 0, 0 from unnest(${ids}::text[], ${tokens.slice(start, start + 2000)}::text[]) as t(id, token)`;
    });
  }
  // One row no key can read: it must be reported and left alone.
  await app.services.pool.run("seed.bad", async (c) => {
    await c`insert into oauth_session (id, user_id, provider, token, expires_at, created_at, updated_at) values ('zz-unreadable', 'u1', 'oidc', 'not-a-fernet-token', 2000000000, 0, 0)`;
  });
});
afterAll(async () => {
  await app.close();
});

const count = (where: "old" | "new") => app.services.pool.run("count", async (c) => {
  const rows = await c<{ token: string }[]>`select token from oauth_session where id like 'row-%'`;
  const { deriveFernetKey } = await import("../../src/crypto/fernet.ts");
  const key = where === "old" ? oldKey : await deriveFernetKey(NEW);
  let n = 0;
  for (const r of rows) if (await fernetDecrypt(key, r.token).then(() => true, () => false)) n++;
  return n;
});

describe("rotate-oauth-encryption-key on 10,000 rows", () => {
  test("a server with both keys reads a row under the old key before the rotation", async () => {
    expect(await app.instance.oauth.sessions.open("row-00042", "u1")).toMatchObject({ dict: { access_token: "at-42" } });
  });

  test("interrupted by --limit 3000 (exit 3), resumed to the end; every row under the new key, plaintexts unchanged", async () => {
    const first = await cli(["rotate-oauth-encryption-key", "--batch-size", "500", "--limit", "3000"]);
    expect(first.code).toBe(3);
    expect(first.out).toContain("run the command again to continue");
    expect(await count("new")).toBe(3000);
    expect(await count("old")).toBe(ROWS - 3000);

    const started = performance.now();
    const second = await cli(["rotate-oauth-encryption-key", "--batch-size", "500"]);
    const seconds = (performance.now() - started) / 1000;
    console.log(`rotation resume of ${ROWS - 3000} rows (batch 500) took ${seconds.toFixed(1)} s including process start`);
    expect(second.out).toContain(`re-encrypted ${ROWS - 3000}, already under the new key 3000`);
    expect(second.out).toContain("1 rows decrypt with no key and were left untouched: zz-unreadable");
    expect(second.code).toBe(1);
    expect(await count("new")).toBe(ROWS);

    const { deriveFernetKey } = await import("../../src/crypto/fernet.ts");
    const newKey = await deriveFernetKey(NEW);
    const rows = await app.services.pool.run("all", async (c) => c<{ id: string; token: string }[]>`select id, token from oauth_session order by id`);
    expect(rows).toHaveLength(ROWS + 1);
    for (const r of rows) {
      if (r.id === "zz-unreadable") {
        expect(r.token).toBe("not-a-fernet-token");
        continue;
      }
      expect(await fernetDecrypt(newKey, r.token)).toBe(plaintextOf(Number(r.id.slice(4))));
    }
    const third = await cli(["rotate-oauth-encryption-key"]);
    expect(third.out).toContain(`re-encrypted 0, already under the new key ${ROWS}`);
  });

  test("a row changed between read and write is read again, not overwritten (compare-and-swap)", async () => {
    const { deriveFernetKey } = await import("../../src/crypto/fernet.ts");
    const newKey = await deriveFernetKey(NEW);
    const other = await deriveFernetKey("third-key-for-the-cas-test-0123456789");
    await app.services.pool.run("cas.seed", async (c) => {
      await c`update oauth_session set token = ${await fernetEncrypt(other, "{\"v\":1}")} where id = 'row-00001'`;
    });
    let raced = false;
    const report = await rotateOAuthEncryptionKey(app.services.pool, {
      fromKeys: [other], toKey: newKey, batchSize: 100, limit: undefined,
      beforeWrite: async (ids) => {
        // A running server refreshes the row meanwhile (writing it under the old key again), once.
        if (ids.includes("row-00001") && !raced) {
          raced = true;
          await app.services.pool.run("cas.race", async (c) => {
            await c`update oauth_session set token = ${await fernetEncrypt(other, "{\"v\":2}")} where id = 'row-00001'`;
          });
        }
      },
    });
    expect(report.retried).toBe(1);
    expect(report.rotated).toBe(1);
    expect(report.contended).toEqual([]);
    const row = await app.services.pool.run("cas.read", async (c) => (await c<{ token: string }[]>`select token from oauth_session where id = 'row-00001'`)[0]!);
    expect(await fernetDecrypt(newKey, row.token)).toBe("{\"v\":2}");
  });
});

describe("a row that never stops changing", () => {
  test("is left under its old key and reported as contended after the attempts, not overwritten", async () => {
    const { deriveFernetKey } = await import("../../src/crypto/fernet.ts");
    const newKey = await deriveFernetKey(NEW);
    const other = await deriveFernetKey("fourth-key-for-the-contention-test-0123");
    await app.services.pool.run("c.seed", async (c) => {
      await c`update oauth_session set token = ${await fernetEncrypt(other, "{\"v\":0}")} where id = 'row-00002'`;
    });
    let writes = 0;
    const report = await rotateOAuthEncryptionKey(app.services.pool, {
      fromKeys: [other], toKey: newKey, batchSize: 100,
      beforeWrite: async (ids) => {
        if (!ids.includes("row-00002")) return;
        writes++;
        await app.services.pool.run("c.race", async (c) => {
          await c`update oauth_session set token = ${await fernetEncrypt(other, `{"v":${writes}}`)} where id = 'row-00002'`;
        });
      },
    });
    expect(report.contended).toEqual(["row-00002"]);
    const row = await app.services.pool.run("c.read", async (c) => (await c<{ token: string }[]>`select token from oauth_session where id = 'row-00002'`)[0]!);
    expect(await fernetDecrypt(other, row.token)).toBe(`{"v":${writes}}`);
  });
});

describe("keys from --from/--to, and a run killed mid-way", () => {
  test("--to that is not the servers' key is refused (exit 2) and changes nothing", async () => {
    const before = await app.services.pool.run("t.before", async (c) => c<{ token: string }[]>`select token from oauth_session order by id limit 5`);
    const r = await cli(["rotate-oauth-encryption-key", "--to", "some-other-key-the-servers-do-not-have"]);
    expect(r.code).toBe(2);
    expect(r.out).toContain("--to is not the key this environment gives the servers");
    expect(r.out).not.toContain("some-other-key-the-servers-do-not-have");
    const after = await app.services.pool.run("t.after", async (c) => c<{ token: string }[]>`select token from oauth_session order by id limit 5`);
    expect(after).toEqual(before);
  });

  test("killed (SIGKILL) while a batch waits on a row lock, rerun with --from: every row under the new key, plaintexts unchanged", async () => {
    const { deriveFernetKey } = await import("../../src/crypto/fernet.ts");
    const FIFTH = "fifth-key-for-the-kill-test-0123456789ab";
    const fifthKey = await deriveFernetKey(FIFTH);
    const newKey = await deriveFernetKey(NEW);
    const ids = Array.from({ length: ROWS }, (_, i) => `row-${String(i).padStart(5, "0")}`);
    const tokens = await Promise.all(ids.map((_, i) => fernetEncrypt(fifthKey, plaintextOf(i))));
    await app.services.pool.run("kill.seed", async (c) => {
      await c`update oauth_session o set token = t.token from unnest(${ids}::text[], ${tokens}::text[]) as t(id, token) where o.id = t.id`;
    });

    // Batch 6 (rows 1000-1199 at --batch-size 200) cannot be written while this lock is held.
    const sql = postgres(env["DATABASE_URL"]!, { max: 1, onnotice: () => {} });
    const locker = await sql.reserve();
    await locker`begin`;
    await locker`select id from oauth_session where id = 'row-01100' for update`;
    const proc = spawnCli(["rotate-oauth-encryption-key", "--from", FIFTH, "--batch-size", "200"]);
    const reader = proc.stdout.getReader();
    let seen = "";
    while (!seen.includes("batch 5:")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    expect(seen).toContain("batch 5: scanned 1000, re-encrypted 1000");
    proc.kill("SIGKILL");
    expect(await proc.exited).not.toBe(0);
    expect(proc.signalCode).toBe("SIGKILL");
    expect(await count("new")).toBe(1000);
    await locker`rollback`;
    locker.release();
    await sql.end();

    const rerun = await cli(["rotate-oauth-encryption-key", "--from", FIFTH, "--batch-size", "200"]);
    console.log(`resumed after the kill: ${rerun.out.slice(rerun.out.indexOf("done in")).split("\n")[0]}`);
    const done = /re-encrypted (\d+), already under the new key (\d+)/.exec(rerun.out.slice(rerun.out.indexOf("done in")))!;
    // The killed run's batch-6 statement may still commit once the lock is released: it is correct either way.
    expect(Number(done[1]) + Number(done[2])).toBe(ROWS);
    expect(Number(done[2])).toBeGreaterThanOrEqual(1000);
    expect(rerun.out).toContain("1 rows decrypt with no key and were left untouched: zz-unreadable");
    const rows = await app.services.pool.run("kill.all", async (c) => c<{ id: string; token: string }[]>`select id, token from oauth_session where id like 'row-%' order by id`);
    expect(rows).toHaveLength(ROWS);
    for (const r of rows) expect(await fernetDecrypt(newKey, r.token)).toBe(plaintextOf(Number(r.id.slice(4))));
  });
});
