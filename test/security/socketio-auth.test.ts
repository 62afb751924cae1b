/**
 * Attack: reach Gatehouse's sockets (and its session_pool) through `/ws/socket.io` with a
 * token HTTP would refuse — tampered signature, expired, signed out (revoked), a pending
 * user's, garbage, an API key. Each must get `connect_error` at the handshake (or, when sent
 * in `user-join`, an empty ack, `error {code: 4001}` and a server disconnect), and never
 * appear in `{prefix}:session_pool` or receive a user's emits.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { SignJWT } from "jose";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { connected, openWebUISocket, refused, request } from "../helpers/sio-client.ts";
import { within } from "../helpers/wait.ts";

const SECRET = "sio-security-secret";

describe("Socket.IO refuses every token HTTP refuses", () => {
  const closers: Array<{ close(): void }> = [];
  let server: ServerProcess;
  let redis: Redis;
  let prefix: string;
  const bad: Array<[string, string]> = [];
  let victim: { token: string; id: string };

  beforeAll(async () => {
    prefix = uniquePrefix("siosec");
    server = await startServerProcess({
      DATABASE_URL: await freshDatabaseUrl("siosec"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: prefix, WEBUI_SECRET_KEY: SECRET,
      ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn", GATEHOUSE_WS_AUTH_TIMEOUT_MS: "1500", ENABLE_API_KEYS: "true",
    }, WS_SERVER_FIXTURE);
    redis = new Redis(await redisUrl());
    const admin = await signUp("admin@example.com");
    victim = await signUp("victim@example.com");
    const now = Math.floor(Date.now() / 1000);
    const key = new TextEncoder().encode(SECRET);
    const expired = await new SignJWT({ id: victim.id, exp: now - 60, jti: crypto.randomUUID(), iat: now - 3600 }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
    const forged = await new SignJWT({ id: victim.id, exp: now + 3600, jti: crypto.randomUUID(), iat: now }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode("not-the-secret"));
    const sig = victim.token.split(".")[2]!;
    const tampered = `${victim.token.split(".").slice(0, 2).join(".")}.${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
    const signedOut = (await signIn("victim@example.com")).token;
    expect((await fetch(`${server.baseUrl}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${signedOut}` } })).status).toBe(200);
    const pending = await signUp("pending@example.com");
    const demote = await fetch(`${server.baseUrl}/api/v1/users/${pending.id}/update`, { ...postJson({ role: "pending" }), headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}` } });
    expect(demote.status).toBe(200);
    bad.push(["tampered", tampered], ["forged", forged], ["expired", expired], ["revoked", signedOut], ["pending", pending.token], ["garbage", "not-a-jwt"], ["api key", "sk-0123456789abcdef"]);
  });
  afterAll(() => {
    for (const c of closers) c.close();
    redis.disconnect();
    server.kill("SIGKILL");
  });

  async function signUp(email: string): Promise<{ token: string; id: string }> {
    const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, postJson({ name: email.split("@")[0], email, password: "pw" }));
    expect(r.status).toBe(200);
    return (await r.json()) as { token: string; id: string };
  }
  async function signIn(email: string): Promise<{ token: string; id: string }> {
    const r = await fetch(`${server.baseUrl}/api/v1/auths/signin`, postJson({ email, password: "pw" }));
    expect(r.status).toBe(200);
    return (await r.json()) as { token: string; id: string };
  }
  const sio = (token: string | undefined) => {
    const c = openWebUISocket(server.baseUrl, token);
    closers.push(c.socket);
    return c;
  };
  const poolSize = async () => Object.keys(await redis.hgetall(`${prefix}:session_pool`)).length;

  test("at the handshake: connect_error Unauthorized {code: 4001}; nothing enters session_pool", async () => {
    for (const [what, token] of bad) {
      const { socket } = sio(token);
      const e = await refused(socket);
      expect([what, e.message, e.data]).toEqual([what, "Unauthorized", { code: 4001 }]);
      socket.close();
    }
    expect(await poolSize()).toBe(0);
  });

  test("in user-join: an empty ack, error {code: 4001}, a server disconnect; nothing enters session_pool and no emit arrives", async () => {
    for (const [what, token] of bad) {
      const { socket, seen } = sio(undefined);
      await connected(socket);
      expect([what, await request(socket, "user-join", { auth: { token } })]).toEqual([what, undefined]);
      await within(2000, () => seen.disconnects.length === 1);
      expect([what, seen.disconnects[0]]).toEqual([what, "io server disconnect"]);
      expect(seen.events.filter((e) => e.event === "error").map((e) => e.args[0])).toEqual([{ code: 4001, message: "Unauthorized" }]);
    }
    expect(await poolSize()).toBe(0);
  });

  test("the victim's emits reach only the victim's own authenticated socket", async () => {
    const attackers = bad.map(([, token]) => sio(token));
    const anonymous = sio(undefined);
    const own = sio(victim.token);
    await connected(own.socket);
    await connected(anonymous.socket);
    await within(2000, async () => (await poolSize()) === 1);
    const r = await fetch(`${server.baseUrl}/test/ws/emit`, postJson({ to: "user", target: victim.id, event: "events", data: "secret" }));
    expect(await r.json()).toEqual({ local: 1, published: true });
    await within(2000, () => own.seen.events.some((e) => e.event === "events"));
    await Bun.sleep(100);
    for (const c of [...attackers, anonymous]) expect(c.seen.events.filter((e) => e.event === "events")).toEqual([]);
    for (const c of attackers) expect(c.seen.connects).toBe(0);
  });
});
