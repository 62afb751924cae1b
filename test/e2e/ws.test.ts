import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import { SignJWT, decodeJwt } from "jose";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { MIXED_FLEETS, startServerProcess, wsServerFixture, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { within } from "../helpers/wait.ts";

const SECRET = "ws-e2e-secret";
// A mixed fleet, both ways round, so every test runs against a Bun and a Deno server.
for (const [runtimeA, runtimeB] of MIXED_FLEETS) describe(`/ws on two instances sharing Postgres and Redis: A on ${runtimeA}, B on ${runtimeB}`, () => {
  const procs: ServerProcess[] = [];
  const sockets: TestSocket[] = [];
  let a: ServerProcess;
  let b: ServerProcess;
  let prefix: string;
  let dbUrl: string;
  let redis: Redis;
  let admin: { token: string; id: string };

  beforeAll(async () => {
    prefix = uniquePrefix(`ws_${runtimeA}`);
    dbUrl = await freshDatabaseUrl(`ws_${runtimeA}`);
    const env = {
      DATABASE_URL: dbUrl, REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: prefix, WEBUI_SECRET_KEY: SECRET,
      ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
      GATEHOUSE_WS_AUTH_TIMEOUT_MS: "1500", GATEHOUSE_WS_MAX_PAYLOAD: "4096", GATEHOUSE_WS_MAX_BAD_FRAMES: "3",
    };
    [a, b] = await Promise.all([startServerProcess(env, wsServerFixture(runtimeA)), startServerProcess(env, wsServerFixture(runtimeB))]);
    procs.push(a, b);
    redis = new Redis(await redisUrl());
    admin = await signUp("admin@example.com");
  });
  afterAll(() => {
    for (const s of sockets) s.close();
    redis.disconnect();
    for (const p of procs) p.kill("SIGKILL");
  });

  async function signUp(email: string): Promise<{ token: string; id: string }> {
    const r = await fetch(`${a.baseUrl}/api/v1/auths/signup`, postJson({ name: email.split("@")[0], email, password: "pw" }));
    expect(r.status).toBe(200);
    return (await r.json()) as { token: string; id: string };
  }
  async function signIn(email: string): Promise<{ token: string; id: string }> {
    const r = await fetch(`${a.baseUrl}/api/v1/auths/signin`, postJson({ email, password: "pw" }));
    expect(r.status).toBe(200);
    return (await r.json()) as { token: string; id: string };
  }
  async function open(server: ServerProcess, token?: string, headers?: Record<string, string>): Promise<TestSocket> {
    const s = await TestSocket.open(wsUrl(server.baseUrl, token), { headers });
    sockets.push(s);
    return s;
  }
  async function joined(server: ServerProcess, token: string): Promise<TestSocket> {
    const s = await open(server);
    const ack = await s.join(token);
    expect(ack.event).toBe("ack");
    return s;
  }
  const emit = (server: ServerProcess, body: Record<string, unknown>) =>
    fetch(`${server.baseUrl}/test/ws/emit`, postJson(body));
  const pool = async () => {
    const raw = await redis.hgetall(`${prefix}:session_pool`);
    return Object.entries(raw).map(([sid, v]): Record<string, unknown> => ({ sid, ...(JSON.parse(v) as Record<string, unknown>) }));
  };
  const poolOf = async (userId: string) => (await pool()).filter((e) => e["id"] === userId);

  test("connect, user-join, ack {id, name}; the session_pool entry has no sensitive fields; disconnect removes it", async () => {
    const u = await signUp("join@example.com");
    const s = await open(a);
    const ack = await s.join(u.token);
    expect(ack).toEqual({ event: "ack", id: 1, data: { id: u.id, name: "join" } });
    await within(2000, async () => (await poolOf(u.id)).length === 1);
    const [entry] = await poolOf(u.id);
    expect(Object.keys(entry!).sort()).toEqual(["created_at", "email", "id", "last_active_at", "last_seen_at", "name", "role", "sid", "updated_at"]);
    expect(entry!["role"]).toBe("user");
    expect(Math.abs((entry!["last_seen_at"] as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(JSON.stringify(entry)).not.toContain(u.token);
    const heartbeat = await s.request("heartbeat", {});
    expect(heartbeat.event).toBe("ack");
    s.close();
    await within(2000, async () => (await poolOf(u.id)).length === 0);
  });

  test("authentication at upgrade: ?token=, Authorization: Bearer and the token cookie (same origin only)", async () => {
    const u = await signUp("upgrade@example.com");
    const viaQuery = await open(a, u.token);
    const viaBearer = await open(b, undefined, { authorization: `Bearer ${u.token}` });
    const viaCookie = await open(a, undefined, { cookie: `token=${u.token}` });
    const crossSite = await open(a, undefined, { cookie: `token=${u.token}`, origin: "https://evil.example" });
    await within(2000, async () => (await poolOf(u.id)).length === 3);
    expect((await emit(a, { to: "user", target: u.id, event: "hello", data: 1 })).status).toBe(200);
    for (const s of [viaQuery, viaBearer, viaCookie]) expect((await s.event("hello")).data).toBe(1);
    // The cross-site socket stayed anonymous: it gets nothing and is closed when the auth timeout passes.
    expect(await crossSite.closedWithin(5000)).toEqual({ code: 4001, reason: "Unauthorized" });
    expect(crossSite.frames.filter((f) => f.event === "hello")).toEqual([]);
  });

  test("an emit from A reaches the user's socket on B, and only that user's", async () => {
    const u = await signUp("cross@example.com");
    const other = await signUp("other@example.com");
    const onB = await joined(b, u.token);
    const otherOnB = await joined(b, other.token);
    const r = await emit(a, { to: "user", target: u.id, event: "chat-events", data: { chat_id: "c1", message: "hi" } });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ local: 0, published: true });
    expect(await onB.event("chat-events")).toEqual({ event: "chat-events", data: { chat_id: "c1", message: "hi" } });
    await Bun.sleep(100);
    expect(otherOnB.frames.some((f) => f.event === "chat-events")).toBe(false);
  });

  test("an emit above GATEHOUSE_WS_MAX_PAYLOAD is refused with a clear error, not dropped", async () => {
    const r = await emit(a, { to: "all", event: "big", data: "x".repeat(5000) });
    expect(r.status).toBe(413);
    const body = (await r.json()) as { code: string; detail: string };
    expect(body.code).toBe("ERR_WS_PAYLOAD_TOO_LARGE");
    expect(body.detail).toContain("GATEHOUSE_WS_MAX_PAYLOAD");
  });

  test("sign-out on A closes the socket on B with 4001 within one second; the user's other session stays", async () => {
    const u = await signUp("signout@example.com");
    const second = await signIn("signout@example.com");
    const onB = await joined(b, u.token);
    const otherSession = await joined(b, second.token);
    const started = performance.now();
    expect((await fetch(`${a.baseUrl}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${u.token}` } })).status).toBe(200);
    await within(1000 - (performance.now() - started), () => !onB.isOpen);
    console.log(`sign-out request sent to A → socket on B closed: ${(performance.now() - started).toFixed(1)} ms`);
    expect(await onB.closed).toEqual({ code: 4001, reason: "Unauthorized" });
    await Bun.sleep(100);
    expect(otherSession.isOpen).toBe(true);
    await within(2000, async () => (await poolOf(u.id)).length === 1);
  });

  test("device-session revoke, sign-out everywhere, demotion to pending and deletion close sockets on B within one second", async () => {
    const cases: Array<[string, (u: { token: string; id: string }) => Promise<Response>]> = [
      ["device-session revoke", (u) => fetch(`${a.baseUrl}/api/v1/auths/sessions/${jti(u.token)}`, { method: "DELETE", headers: { authorization: `Bearer ${u.token}` } })],
      ["sign-out everywhere", (u) => fetch(`${a.baseUrl}/api/v1/auths/signout/everywhere`, { method: "POST", headers: { authorization: `Bearer ${u.token}` } })],
      ["demotion to pending", (u) => fetch(`${a.baseUrl}/api/v1/users/${u.id}/update`, { ...postJson({ role: "pending" }), headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}` } })],
      ["deletion", (u) => fetch(`${a.baseUrl}/api/v1/users/${u.id}`, { method: "DELETE", headers: { authorization: `Bearer ${admin.token}` } })],
    ];
    for (const [what, act] of cases) {
      const u = await signUp(`${what.replace(/\W/g, "")}@example.com`);
      const onB = await joined(b, u.token);
      const onA = await joined(a, u.token);
      const started = performance.now();
      expect((await act(u)).status).toBe(200);
      await within(1000 - (performance.now() - started), () => !onB.isOpen && !onA.isOpen);
      console.log(`${what} request sent to A → sockets on A and B closed: ${(performance.now() - started).toFixed(1)} ms`);
      expect((await onB.closed).code).toBe(4001);
      await within(2000, async () => (await poolOf(u.id)).length === 0);
    }
  });

  test("a role change updates the pooled snapshot and keeps the socket", async () => {
    const u = await signUp("promote@example.com");
    const onB = await joined(b, u.token);
    await within(2000, async () => (await poolOf(u.id))[0]?.["role"] === "user");
    const r = await fetch(`${a.baseUrl}/api/v1/users/${u.id}/update`, { ...postJson({ role: "admin", name: "Promoted" }), headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}` } });
    expect(r.status).toBe(200);
    await within(1000, async () => {
      const [e] = await poolOf(u.id);
      return e?.["role"] === "admin" && e["name"] === "Promoted";
    });
    expect(onB.isOpen).toBe(true);
  });

  test("expired, tampered, revoked and pending-user tokens are refused with 4001 and a generic reason; no pool entry", async () => {
    const u = await signUp("refused@example.com");
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ id: u.id, exp: now - 60, jti: crypto.randomUUID(), iat: now - 3600 }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
    const sig = u.token.split(".")[2]!;
    const tampered = `${u.token.split(".").slice(0, 2).join(".")}.${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
    const revoked = (await signIn("refused@example.com")).token;
    await fetch(`${a.baseUrl}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${revoked}` } });
    const p = await signUp("pending@example.com");
    await fetch(`${a.baseUrl}/api/v1/users/${p.id}/update`, { ...postJson({ role: "pending" }), headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}` } });
    for (const token of [expired, tampered, revoked, p.token, "not-a-jwt"]) {
      for (const viaUpgrade of [false, true]) {
        const s = await open(b, viaUpgrade ? token : undefined);
        if (!viaUpgrade) void s.join(token).catch(() => {});
        expect(await s.closedWithin(2000)).toEqual({ code: 4001, reason: "Unauthorized" });
        expect(s.frames.filter((f) => f.event === "ack")).toEqual([]);
      }
    }
    expect(await poolOf(p.id)).toEqual([]);
    expect((await poolOf(u.id)).length).toBe(0);
    const metrics = await (await fetch(`${b.baseUrl}/metrics`)).text();
    for (const reason of ["expired", "invalid", "revoked", "pending"]) expect(metrics).toMatch(new RegExp(`gatehouse_ws_auth_failures_total\\{reason="${reason}",transport="ws"\\} [1-9]`));
    expect(metrics).toMatch(/gatehouse_ws_closes_total\{code="4001",transport="ws"\} [1-9]/);
  });

  test("an unauthenticated socket is closed after GATEHOUSE_WS_AUTH_TIMEOUT_MS; before that it may only join", async () => {
    const s = await open(a);
    const refused = await s.request("heartbeat", {});
    expect(refused).toEqual({ event: "error", id: 1, data: { code: "ERR_WS_NOT_AUTHENTICATED", message: "Not authenticated" } });
    expect(await s.closedWithin(5000)).toEqual({ code: 4001, reason: "Unauthorized" });
  });

  test("bad frames get error events, repeated ones a close (1008, or 1009 when oversize); the server keeps serving", async () => {
    const u = await signUp("frames@example.com");
    const s = await joined(a, u.token);
    s.sendRaw("not json");
    expect((await s.next((f) => f.event === "error")).data).toEqual({ code: "ERR_WS_NOT_JSON", message: "Frame is not valid JSON" });
    s.sendRaw(new Uint8Array([1, 2, 3]));
    await s.next((f) => (f.data as { code?: string })?.code === "ERR_WS_BINARY_FRAME");
    // A good frame resets the count.
    expect((await s.request("heartbeat", {})).event).toBe("ack");
    expect((await s.request("no-such-event", {})).data).toEqual({ code: "ERR_WS_UNKNOWN_EVENT", message: "Unknown event" });
    expect((await s.request("user-join", { auth: {} })).data).toMatchObject({ code: "ERR_WS_BAD_REQUEST" });
    s.sendRaw(JSON.stringify({ event: 42 }));
    s.sendRaw("[1,2]");
    s.sendRaw(JSON.stringify({ event: "heartbeat", id: -1 }));
    expect(await s.closedWithin(2000)).toEqual({ code: 1008, reason: "Too many bad frames" });
    expect(s.frames.filter((f) => (f.data as { code?: string })?.code === "ERR_WS_BAD_FRAME")).toHaveLength(3);

    const big = await joined(a, u.token);
    for (let i = 0; i < 3; i++) big.sendRaw(JSON.stringify({ event: "heartbeat", data: "x".repeat(5000) }));
    expect(await big.closedWithin(2000)).toEqual({ code: 1009, reason: "Frames too large" });
    expect(big.frames.filter((f) => (f.data as { code?: string })?.code === "ERR_WS_FRAME_TOO_LARGE")).toHaveLength(3);
    expect((await fetch(`${a.baseUrl}/livez`)).status).toBe(200);
  });

  test("join-channels joins the channels the user owns or is a member of (Open WebUI's tables), and channel emits reach them", async () => {
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    const u = await signUp("channels@example.com");
    try {
      await sql`create table if not exists channel (id text primary key, user_id text, name text, deleted_at bigint)`;
      await sql`create table if not exists channel_member (id text primary key, channel_id text, user_id text, is_active boolean)`;
      await sql`insert into channel values ('c-own', ${u.id}, 'own', null), ('c-member', ${admin.id}, 'member', null), ('c-gone', ${u.id}, 'gone', 1), ('c-other', ${admin.id}, 'other', null)`;
      await sql`insert into channel_member values ('m1', 'c-member', ${u.id}, true), ('m2', 'c-other', ${u.id}, false)`;
    } finally {
      await sql.end();
    }
    const s = await joined(b, u.token);
    const ack = await s.request("join-channels", { auth: { token: u.token } });
    expect(ack.event).toBe("ack");
    expect(((ack.data as { channels: string[] }).channels).sort()).toEqual(["c-member", "c-own"]);
    for (const room of ["channel:c-own", "channel:c-member", "channel:c-other", "channel:c-gone"]) {
      expect((await emit(a, { to: "room", target: room, event: "channel-events", data: room })).status).toBe(200);
    }
    await s.next((f) => f.data === "channel:c-member");
    await Bun.sleep(100);
    expect(s.frames.filter((f) => f.event === "channel-events").map((f) => f.data).sort()).toEqual(["channel:c-member", "channel:c-own"]);
  });

  test("metrics: connections by state, messages by direction, closes by code (transport ws)", async () => {
    const u = await signUp("metrics@example.com");
    await joined(a, u.token);
    await open(a);
    const text = await (await fetch(`${a.baseUrl}/metrics`)).text();
    expect(text).toMatch(/gatehouse_ws_connections\{state="authenticated",transport="ws"\} [1-9]/);
    expect(text).toMatch(/gatehouse_ws_connections\{state="anonymous",transport="ws"\} [1-9]/);
    expect(text).toMatch(/gatehouse_ws_messages_total\{direction="in",transport="ws"\} [1-9]/);
    expect(text).toMatch(/gatehouse_ws_messages_total\{direction="out",transport="ws"\} [1-9]/);
    expect(text).toContain("gatehouse_ws_closes_total{code=");
  });
});

/** The `jti` claim of a token (the device-session id). */
function jti(token: string): string {
  return (decodeJwt(token) as { jti: string }).jti;
}
