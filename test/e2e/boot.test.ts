import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { entryCommand, RUNTIMES, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const started: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const s of started) if (s.proc.exitCode === null) s.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const BAD: Array<[string, string, string]> = [
  ["DATABASE_POOL_SIZE", "abc", "DATABASE_POOL_SIZE: invalid value; expected an integer from 1 to 1000"],
  ["WEBUI_AUTH_COOKIE_SAME_SITE", "maybe", "WEBUI_AUTH_COOKIE_SAME_SITE: invalid value; expected one of lax, strict, none"],
  ["REDIS_URL", "ftp://x", "REDIS_URL: invalid value; expected a URL starting with redis:// or rediss://"],
  ["OAUTH_SESSION_TOKEN_ENCRYPTION_KEY", "#".repeat(44), "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY: invalid value; expected a Fernet key"],
  ["LDAP_SEARCH_FILTER", "objectClass=user", "LDAP_SEARCH_FILTER: invalid value; expected an LDAP filter in parentheses"],
  ["OAUTH_BLOCKED_GROUPS", '["(a+)+$"]', "OAUTH_BLOCKED_GROUPS: invalid value; expected a JSON array of group names"],
];

for (const runtime of RUNTIMES) describe(`boot on ${runtime}`, () => {
  // The config path is shared code; on Deno one case shows the exit code and the line.
  for (const [name, value, message] of runtime === "bun" ? BAD : BAD.slice(0, 1)) {
    test(`${name}=${value} stops the process with exit code 2 and one line naming it`, async () => {
      const s = await startServerProcess({ [name]: value }, entryCommand(runtime), false);
      started.push(s);
      expect(await s.exited).toBe(2);
      const lines = s.output().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toStartWith(`gatehouse: configuration error: ${message}`);
    });
  }

  test(`with nothing configured: embedded PGlite, in-memory store, a generated secret key${runtime === "bun" ? " reused on restart" : ""}`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-boot-"));
    dirs.push(dataDir);
    const env = { GATEHOUSE_DATA_DIR: dataDir };
    const first = await startServerProcess(env, entryCommand(runtime));
    started.push(first);
    const ready = await fetch(`${first.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: true, checks: { postgres: "ok", store: "ok" } });
    expect(first.output()).toContain(`Gatehouse listening on http://127.0.0.1:${first.port}`);
    expect(first.output()).toContain("embedded PGlite");
    expect(first.output()).toContain("in-memory (single instance only");
    const keyFile = join(dataDir, ".webui_secret_key");
    const key = readFileSync(keyFile, "utf8").trim();
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(first.output()).not.toContain(key);
    first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    // Reopening the data directory is shared code (embedded/data-dir.ts, PGlite); on Deno, whose
    // PGlite start is the slowest step of the suite, the first boot is enough.
    if (runtime === "deno") return;

    const second = await startServerProcess(env, entryCommand(runtime));
    started.push(second);
    expect((await fetch(`${second.baseUrl}/health/db`)).status).toBe(200);
    expect(readFileSync(keyFile, "utf8").trim()).toBe(key);
    expect(second.output()).toContain("read from");
    second.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});
