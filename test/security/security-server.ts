import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { startGatehouse, type GatehouseServer } from "../../src/server.ts";
import { serveBun } from "../../src/runtime/bun.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { startServerProcess } from "../helpers/server-process.ts";

/** A secret long enough not to be warned about; never Open WebUI's published default. */
export const SUITE_SECRET = "security-suite-secret-0123456789abcdef";

/** A real Gatehouse listening on 127.0.0.1 (real sockets: the peer address is real), on a fresh database. */
export interface SecurityServer {
  baseUrl: string;
  /** `http://127.0.0.1:<port>`, the origin a same-origin browser would send. */
  origin: string;
  gatehouse: GatehouseServer;
  logText(): string;
  /** JSON POST, as Open WebUI's frontend sends it. */
  postJson(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** Starts a server in this process with `env` on top of the suite's defaults (sign-up open, memory store). */
export async function startSecurityServer(label: string, env: Record<string, string> = {}): Promise<SecurityServer> {
  const logs = captureLogger("info");
  const config = loadConfig({
    DATABASE_URL: await freshDatabaseUrl(`sec_${label}`),
    WEBUI_SECRET_KEY: SUITE_SECRET,
    GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), "gh-sec-")),
    HOST: "127.0.0.1",
    PORT: "0",
    ENABLE_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
    // No boot-time crypto calibration (≈ 1.5 s a server): these tests are about HTTP, not throughput.
    GATEHOUSE_CRYPTO_POLICY: "inline",
    ...env,
  });
  const gatehouse = await startGatehouse(config, logs.log, serveBun);
  const baseUrl = `http://127.0.0.1:${gatehouse.server.port}`;
  return {
    baseUrl,
    origin: baseUrl,
    gatehouse,
    logText: logs.text,
    postJson: (path, body, headers = {}) =>
      fetch(`${baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }),
    close: () => gatehouse.shutdown(),
  };
}

/** Signs up (first user: admin) and returns the session token and user id. */
export async function signUp(s: SecurityServer, email: string, name = email.split("@")[0]!): Promise<{ token: string; id: string }> {
  const r = await s.postJson("/api/v1/auths/signup", { name, email, password: "correct-horse-battery" });
  if (r.status !== 200) throw new Error(`sign-up of ${email} failed: ${r.status} ${await r.text()}`);
  const body = (await r.json()) as { token: string; id: string };
  return { token: body.token, id: body.id };
}

/** Number of users with `email`, straight from the database. */
export async function usersWithEmail(s: SecurityServer, email: string): Promise<number> {
  return s.gatehouse.services.pool.run("sec-test", async (c) => Number((await c`select count(*) as n from "user" where email = ${email}`)[0]!["n"]));
}

/**
 * Boots the real entry point with `env` (on a fresh database) and reports how that went
 * within `ms`: the exit code if it exited, or `live: true` once `/livez` answered (the
 * process is then stopped). Output is everything it wrote.
 */
export async function bootOutcome(env: Record<string, string>, ms = 30_000): Promise<{ code: number | null; live: boolean; output: string }> {
  const p = await startServerProcess({
    DATABASE_URL: await freshDatabaseUrl("sec_boot"),
    GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), "gh-sec-boot-")),
    GATEHOUSE_CRYPTO_POLICY: "inline",
    ...env,
  }, undefined, false);
  let code: number | null = null;
  void p.exited.then((c) => (code = c));
  const deadline = performance.now() + ms;
  let live = false;
  while (code === null && !live && performance.now() < deadline) {
    live = await fetch(`${p.baseUrl}/livez`).then((r) => r.ok, () => false);
    if (!live) await Bun.sleep(100);
  }
  const ended: number | null = code;
  if (ended === null) {
    p.kill("SIGKILL");
    await p.exited;
  }
  return { code: ended, live, output: p.output() };
}
