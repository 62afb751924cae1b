import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import type { Socket } from "socket.io-client";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { connected, openWebUISocket, refused, request, type SioRecord } from "../helpers/sio-client.ts";
import { waitFor, within } from "../helpers/wait.ts";

describe("/ws/socket.io with Open WebUI's client options, on two instances sharing Postgres and Redis", () => {
  const procs: ServerProcess[] = [];
  const clients: Array<{ close(): void }> = [];
  let a: ServerProcess;
  let b: ServerProcess;
  let prefix: string;
  let dbUrl: string;
  let redis: Redis;
  let admin: { token: string; id: string };

  beforeAll(async () => {
    prefix = uniquePrefix("sio");
    dbUrl = await freshDatabaseUrl("sio");
    const env = {
      DATABASE_URL: dbUrl, REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: prefix, WEBUI_SECRET_KEY: "sio-e2e-secret",
      ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
      GATEHOUSE_WS_AUTH_TIMEOUT_MS: "1500", DATABASE_USER_ACTIVE_STATUS_UPDATE_INTERVAL: "1", GATEHOUSE_WS_MAX_SOCKETS_PER_USER: "3",
      GATEHOUSE_WS_MAX_PAYLOAD: "4096", GATEHOUSE_WS_MAX_BAD_FRAMES: "3",
    };
    [a, b] = await Promise.all([startServerProcess(env, WS_SERVER_FIXTURE), startServerProcess(env, WS_SERVER_FIXTURE)]);
    procs.push(a, b);
    redis = new Redis(await redisUrl());
    // The first account is the admin.
    admin = await signUp(a, "admin@example.com");
  });
  afterAll(() => {
    for (const c of clients) c.close();
    redis.disconnect();
    for (const p of procs) p.kill("SIGKILL");
  });

  async function signUp(server: ServerProcess, email: string): Promise<{ token: string; id: string }> {
    const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, postJson({ name: email.split("@")[0], email, password: "pw" }));
    expect(r.status).toBe(200);
    return (await r.json()) as { token: string; id: string };
  }
  function sio(server: ServerProcess, token: string | undefined, transports?: Array<"websocket" | "polling">): { socket: Socket; seen: SioRecord } {
    const c = openWebUISocket(server.baseUrl, token, transports);
    clients.push(c.socket);
    return c;
  }
  const emit = (server: ServerProcess, body: Record<string, unknown>) => fetch(`${server.baseUrl}/test/ws/emit`, postJson(body));
  const pool = async () => {
    const raw = await redis.hgetall(`${prefix}:session_pool`);
    return Object.entries(raw).map(([sid, v]): Record<string, unknown> => ({ sid, ...(JSON.parse(v) as Record<string, unknown>) }));
  };
  const poolOf = async (userId: string) => (await pool()).filter((e) => e["id"] === userId);
  const received = (seen: SioRecord, event: string) => seen.events.filter((e) => e.event === event).map((e) => e.args[0]);

  test("connect with auth.token enters the pool (Open WebUI's format); user-join acks {id, name}; disconnect removes the entry", async () => {
    const u = await signUp(a, "join@example.com");
    const { socket } = sio(a, u.token);
    await connected(socket);
    await within(2000, async () => (await poolOf(u.id)).length === 1);
    const [entry] = await poolOf(u.id);
    expect(Object.keys(entry!).sort()).toEqual(["created_at", "email", "id", "last_active_at", "last_seen_at", "name", "role", "sid", "updated_at"]);
    expect(JSON.stringify(entry)).not.toContain(u.token);
    expect(await request(socket, "user-join", { auth: { token: u.token } })).toEqual({ id: u.id, name: "join" });
    socket.disconnect();
    await within(2000, async () => (await poolOf(u.id)).length === 0);
  });

  test("heartbeat moves the user's last_active_at (throttled, batched); usage {model} marks usage_pool until disconnect", async () => {
    const u = await signUp(a, "heartbeat@example.com");
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      const lastActive = async () => Number((await sql`select last_active_at from "user" where id = ${u.id}`)[0]!["last_active_at"]);
      // Let sign-up's own activity note be written first (interval 1 s), then move to the next second.
      await Bun.sleep(2100);
      const before = await lastActive();
      const { socket } = sio(b, u.token);
      await connected(socket);
      socket.emit("heartbeat", {});
      await within(4000, async () => (await lastActive()) > before);
      expect(await request(socket, "usage", { model: "gpt-test" })).toBeNull();
      const usage = JSON.parse((await redis.hget(`${prefix}:usage_pool`, "gpt-test"))!) as Record<string, { updated_at: number }>;
      expect(Object.keys(usage)).toHaveLength(1);
      socket.disconnect();
      await within(2000, async () => (await redis.hget(`${prefix}:usage_pool`, "gpt-test")) === null);
    } finally {
      await sql.end();
    }
  });

  test("an emit from instance A reaches the user's Socket.IO client on instance B, and no one else's", async () => {
    const u = await signUp(a, "cross@example.com");
    const other = await signUp(a, "other@example.com");
    const mine = sio(b, u.token);
    const theirs = sio(b, other.token);
    await Promise.all([connected(mine.socket), connected(theirs.socket)]);
    await within(2000, async () => (await poolOf(u.id)).length === 1 && (await poolOf(other.id)).length === 1);
    const r = await emit(a, { to: "user", target: u.id, event: "events", data: { chat_id: "c1", data: { type: "x" } } });
    expect(await r.json()).toEqual({ local: 0, published: true });
    await within(2000, () => received(mine.seen, "events").length === 1);
    expect(received(mine.seen, "events")).toEqual([{ chat_id: "c1", data: { type: "x" } }]);
    await Bun.sleep(100);
    expect(received(theirs.seen, "events")).toEqual([]);
  });

  test("mixed: a raw /ws client and a Socket.IO client of one user both receive emitToUser", async () => {
    const u = await signUp(a, "mixed@example.com");
    const raw = await TestSocket.open(wsUrl(a.baseUrl, u.token));
    clients.push(raw);
    const { socket, seen } = sio(b, u.token);
    await connected(socket);
    await within(2000, async () => (await poolOf(u.id)).length === 2);
    expect((await emit(a, { to: "user", target: u.id, event: "events", data: "both" })).status).toBe(200);
    expect((await raw.event("events")).data).toBe("both");
    await within(2000, () => received(seen, "events").includes("both"));
  });

  test("GATEHOUSE_WS_MAX_SOCKETS_PER_USER counts /ws and Socket.IO sockets together: the one too many is disconnected (1008)", async () => {
    const u = await signUp(a, "cap@example.com");
    const raw = await TestSocket.open(wsUrl(a.baseUrl, u.token));
    clients.push(raw);
    const first = sio(a, u.token);
    const second = sio(a, u.token);
    await Promise.all([connected(first.socket), connected(second.socket)]);
    await within(2000, async () => (await poolOf(u.id)).length === 3);
    const extra = sio(a, u.token);
    await within(2000, () => extra.seen.disconnects.length === 1);
    expect(extra.seen.disconnects).toEqual(["io server disconnect"]);
    expect(received(extra.seen, "error")).toEqual([{ code: "ERR_WS_TOO_MANY_SOCKETS", message: "Too many open sockets for this user" }, { code: 1008, message: "Too many sockets" }]);
    expect(raw.isOpen && first.socket.connected && second.socket.connected).toBe(true);
    expect(await poolOf(u.id)).toHaveLength(3);
  });

  test("oversize events get error events and, repeated, a disconnect (1009), as on /ws; pending acks are answered empty", async () => {
    const u = await signUp(a, "oversize@example.com");
    const { socket, seen } = sio(a, u.token);
    await connected(socket);
    const acks = [1, 2, 3].map(() => socket.timeout(3000).emitWithAck("heartbeat", { pad: "x".repeat(5000) }).catch((e: Error) => e.message));
    await within(2000, () => seen.disconnects.length === 1);
    const errors = received(seen, "error") as Array<{ code: unknown }>;
    expect(errors.map((e) => e.code)).toEqual(["ERR_WS_FRAME_TOO_LARGE", "ERR_WS_FRAME_TOO_LARGE", "ERR_WS_FRAME_TOO_LARGE", 1009]);
    expect(await Promise.all(acks)).toEqual([undefined, undefined, undefined]);
    expect((await fetch(`${a.baseUrl}/livez`)).status).toBe(200);
  });

  test("sign-out on A disconnects the client on B within one second (error 4001, io server disconnect); a reconnect with that token gets connect_error", async () => {
    const u = await signUp(a, "signout@example.com");
    const { socket, seen } = sio(b, u.token);
    await connected(socket);
    await within(2000, async () => (await poolOf(u.id)).length === 1);
    const started = performance.now();
    expect((await fetch(`${a.baseUrl}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${u.token}` } })).status).toBe(200);
    await within(1000 - (performance.now() - started), () => seen.disconnects.length === 1);
    console.log(`sign-out request sent to A → Socket.IO client on B disconnected: ${(performance.now() - started).toFixed(1)} ms`);
    expect(seen.disconnects).toEqual(["io server disconnect"]);
    expect(received(seen, "error")).toEqual([{ code: 4001, message: "Unauthorized" }]);
    await within(2000, async () => (await poolOf(u.id)).length === 0);
    const again = sio(b, u.token);
    const e = await refused(again.socket);
    expect(e.message).toBe("Unauthorized");
    expect(e.data).toEqual({ code: 4001 });
  });

  test("device-session revoke, sign-out everywhere, demotion and deletion disconnect Socket.IO clients on A and B within one second", async () => {
    const jti = (t: string) => (JSON.parse(atob(t.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { jti: string }).jti;
    const asAdmin = { "content-type": "application/json", authorization: `Bearer ${admin.token}` };
    const cases: Array<[string, (u: { token: string; id: string }) => Promise<Response>]> = [
      ["device-session revoke", (u) => fetch(`${a.baseUrl}/api/v1/auths/sessions/${jti(u.token)}`, { method: "DELETE", headers: { authorization: `Bearer ${u.token}` } })],
      ["sign-out everywhere", (u) => fetch(`${a.baseUrl}/api/v1/auths/signout/everywhere`, { method: "POST", headers: { authorization: `Bearer ${u.token}` } })],
      ["demotion to pending", (u) => fetch(`${a.baseUrl}/api/v1/users/${u.id}/update`, { ...postJson({ role: "pending" }), headers: asAdmin })],
      ["deletion", (u) => fetch(`${a.baseUrl}/api/v1/users/${u.id}`, { method: "DELETE", headers: asAdmin })],
    ];
    for (const [what, act] of cases) {
      const u = await signUp(a, `${what.replace(/\W/g, "")}@example.com`);
      const onA = sio(a, u.token);
      const onB = sio(b, u.token);
      await Promise.all([connected(onA.socket), connected(onB.socket)]);
      await within(2000, async () => (await poolOf(u.id)).length === 2);
      const started = performance.now();
      expect((await act(u)).status).toBe(200);
      await within(1000 - (performance.now() - started), () => onA.seen.disconnects.length === 1 && onB.seen.disconnects.length === 1);
      console.log(`${what} request sent to A → Socket.IO clients on A and B disconnected: ${(performance.now() - started).toFixed(1)} ms`);
      expect(onB.seen.disconnects).toEqual(["io server disconnect"]);
      await within(2000, async () => (await poolOf(u.id)).length === 0);
    }
  });

  test("without a token the socket connects (always_connect) but joins nothing, may user-join, and otherwise is disconnected at the auth timeout", async () => {
    const u = await signUp(a, "anon@example.com");
    const anon = sio(a, undefined);
    await connected(anon.socket);
    expect((await emit(a, { to: "all", event: "everyone", data: 1 })).status).toBe(200);
    const late = sio(a, undefined);
    await connected(late.socket);
    expect(await request(late.socket, "user-join", { auth: { token: u.token } })).toEqual({ id: u.id, name: "anon" });
    await within(4000, () => anon.seen.disconnects.length === 1);
    expect(received(anon.seen, "everyone")).toEqual([]);
    expect(received(anon.seen, "error")).toEqual([{ code: 4001, message: "Unauthorized" }]);
    expect(late.socket.connected).toBe(true);
    expect(await poolOf(u.id)).toHaveLength(1);
  });

  test("websocket-only by default (Open WebUI's ENABLE_WEBSOCKET_SUPPORT=true): a polling handshake is refused", async () => {
    const r = await fetch(`${a.baseUrl}/ws/socket.io/?EIO=4&transport=polling`);
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({ code: 4, message: "Transport not enabled" });
  });

  test("polling (ENABLE_WEBSOCKET_SUPPORT=false): connect, user-join, emits from A, sign-out; websocket refused; after an instance restart the client reconnects and re-authenticates", async () => {
    const env = {
      DATABASE_URL: dbUrl, REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: prefix, WEBUI_SECRET_KEY: "sio-e2e-secret",
      GATEHOUSE_LOG_LEVEL: "warn", ENABLE_WEBSOCKET_SUPPORT: "false", GATEHOUSE_SHUTDOWN_DRAIN_DELAY_MS: "0",
    };
    let c = await startServerProcess(env, WS_SERVER_FIXTURE);
    procs.push(c);
    const u = await signUp(a, "polling@example.com");
    const { socket, seen } = sio(c, u.token, ["polling"]);
    await connected(socket);
    expect(socket.io.engine.transport.name).toBe("polling");
    expect(await request(socket, "user-join", { auth: { token: u.token } })).toEqual({ id: u.id, name: "polling" });
    expect((await emit(a, { to: "user", target: u.id, event: "events", data: "over polling" })).status).toBe(200);
    await within(3000, () => received(seen, "events").includes("over polling"));
    const ws = sio(c, u.token, ["websocket"]);
    await refused(ws.socket);
    ws.socket.close();

    // Restart C on the same port: the client is dropped (not told to stay away), reconnects, and is authenticated again.
    const [first] = await poolOf(u.id);
    c.kill("SIGTERM");
    expect(await c.exited).toBe(0);
    await within(2000, () => seen.disconnects.length === 1);
    expect(seen.disconnects).toEqual(["transport close"]);
    c = await startServerProcess({ ...env, PORT: String(c.port) }, WS_SERVER_FIXTURE);
    procs.push(c);
    await within(10_000, () => seen.connects === 2);
    await within(2000, async () => (await poolOf(u.id)).some((e) => e["sid"] !== first!["sid"]));

    const started = performance.now();
    expect((await fetch(`${a.baseUrl}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${u.token}` } })).status).toBe(200);
    await within(1000 - (performance.now() - started), () => seen.disconnects.length === 2);
    expect(seen.disconnects[1]).toBe("io server disconnect");
  });

  test("metrics count Socket.IO sockets by transport", async () => {
    const u = await signUp(a, "metrics@example.com");
    const { socket } = sio(a, u.token);
    await connected(socket);
    const text = (await (await fetch(`${a.baseUrl}/metrics`)).text()).split("\n").filter((l) => l.startsWith("gatehouse_ws_")).join("\n");
    expect(text).toMatch(/gatehouse_ws_connections\{state="authenticated",transport="socketio"\} [1-9]/);
    expect(text).toMatch(/gatehouse_ws_messages_total\{direction="in",transport="socketio"\} [1-9]/);
    expect(text).toMatch(/gatehouse_ws_messages_total\{direction="out",transport="socketio"\} [1-9]/);
    expect(text).toMatch(/gatehouse_ws_closes_total\{code="4001",transport="socketio"\} [1-9]/);
    expect(text).toMatch(/gatehouse_ws_auth_failures_total\{reason="timeout",transport="socketio"\} [1-9]/);
  });
});
