import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { MIXED_FLEET, startServerProcess, wsServerFixture, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { within } from "../helpers/wait.ts";

// A mixed fleet: the Bun instance (A) is killed, the Deno one (B) reaps its entries and drains on
// SIGTERM. (ws.test.ts runs the hub both ways round; one direction keeps this file's time down.)
for (const [runtimeA, runtimeB] of MIXED_FLEET) describe(`session pool upkeep: A on ${runtimeA}, B on ${runtimeB}`, () => {
  const procs: ServerProcess[] = [];
  const sockets: TestSocket[] = [];
  let a: ServerProcess;
  let b: ServerProcess;
  let prefix: string;
  let redis: Redis;

  beforeAll(async () => {
    prefix = uniquePrefix(`ws-reaper-${runtimeA}`);
    // Short staleness and interval so the reaper runs within the test; Open WebUI's 120 s is the default.
    const env = {
      DATABASE_URL: await freshDatabaseUrl(`ws_reaper_${runtimeA}`), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: prefix,
      WEBUI_SECRET_KEY: "ws-reaper-secret", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
      GATEHOUSE_WS_SESSION_POOL_TIMEOUT_SECONDS: "2", GATEHOUSE_WS_REAPER_INTERVAL_MS: "300", GATEHOUSE_WS_MAX_SOCKETS_PER_USER: "2",
    };
    [a, b] = await Promise.all([startServerProcess(env, wsServerFixture(runtimeA)), startServerProcess(env, wsServerFixture(runtimeB))]);
    procs.push(a, b);
    redis = new Redis(await redisUrl());
  });
  afterAll(() => {
    for (const s of sockets) s.close();
    redis.disconnect();
    for (const p of procs) if (p.proc.exitCode === null) p.kill("SIGKILL");
  });

  async function signUp(email: string, server = a): Promise<{ token: string; id: string }> {
    const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, postJson({ name: email, email, password: "pw" }));
    return (await r.json()) as { token: string; id: string };
  }

  async function open(server: ServerProcess, token: string): Promise<TestSocket> {
    const s = await TestSocket.open(wsUrl(server.baseUrl));
    sockets.push(s);
    await s.join(token);
    return s;
  }

  const entriesOf = async (userId: string) =>
    Object.values(await redis.hgetall(`${prefix}:session_pool`)).filter((v) => (JSON.parse(v) as { id: string }).id === userId).length;

  test("GATEHOUSE_WS_MAX_SOCKETS_PER_USER: the socket over the limit gets an error and 1008", async () => {
    const u = await signUp("limit@example.com");
    await open(a, u.token);
    await open(a, u.token);
    const third = await TestSocket.open(wsUrl(a.baseUrl, u.token));
    expect((await third.event("error")).data).toEqual({ code: "ERR_WS_TOO_MANY_SOCKETS", message: "Too many open sockets for this user" });
    expect(await third.closedWithin(2000)).toEqual({ code: 1008, reason: "Too many sockets" });
    for (const s of sockets.splice(0)) s.close();
    await within(5000, async () => (await entriesOf(u.id)) === 0);
  });

  test("a killed instance leaves no session_pool entry once the reaper has run; live entries stay", async () => {
    const onA = await signUp("killed@example.com");
    const onB = await signUp("survivor@example.com");
    await open(a, onA.token);
    await open(a, onA.token);
    const live = await open(b, onB.token);
    await within(5000, async () => (await entriesOf(onA.id)) === 2 && (await entriesOf(onB.id)) === 1);

    a.kill("SIGKILL");
    await a.exited;
    // The crashed instance could not clean up: its entries are still there.
    expect(await entriesOf(onA.id)).toBe(2);
    await within(10_000, async () => (await entriesOf(onA.id)) === 0);
    // Well past the timeout, the survivor's entry is still refreshed by its instance.
    await Bun.sleep(2500);
    expect(await entriesOf(onB.id)).toBe(1);
    expect(live.isOpen).toBe(true);
    const metrics = await (await fetch(`${b.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_ws_session_pool_reaped_total [2-9]/);
  });

  test("SIGTERM closes sockets with 1001 and removes their entries before exiting", async () => {
    const u = await signUp("drain@example.com", b);
    const s = await open(b, u.token);
    await within(5000, async () => (await entriesOf(u.id)) === 1);
    b.kill("SIGTERM");
    expect(await s.closedWithin(5000)).toEqual({ code: 1001, reason: "Server shutting down" });
    expect(await b.exited).toBe(0);
    expect(await redis.hlen(`${prefix}:session_pool`)).toBe(0);
  });
});
