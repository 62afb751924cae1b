import { afterEach, describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { loadConfig } from "../../src/config/config.ts";
import { MemoryStore } from "../../src/kv/memory.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { WsHub, type WsHubDeps } from "../../src/ws/hub.ts";
import { registerCoreEvents } from "../../src/ws/core-events.ts";
import { PoolReaper } from "../../src/ws/pool-reaper.ts";
import { SESSION_POOL_KEY, SessionPool } from "../../src/ws/session-pool.ts";
import { encodeFrame, exceedsBytes, parseFrame, utf8Length } from "../../src/ws/protocol.ts";
import { UnauthorizedError } from "../../src/auth/auth-errors.ts";
import { WsPayloadTooLargeError } from "../../src/ws/ws-errors.ts";
import type { WsTransport } from "../../src/ws/transport.ts";
import type { UserRecord } from "../../src/db/repos/users.ts";

describe("protocol", () => {
  test("parseFrame accepts {event, data, id?} and names what is wrong otherwise", () => {
    expect(parseFrame('{"event":"a","data":1,"id":7}')).toEqual({ event: "a", data: 1, id: 7 });
    expect(parseFrame('{"event":"a"}')).toEqual({ event: "a", data: undefined });
    expect(parseFrame("nope")).toBe("ERR_WS_NOT_JSON");
    for (const bad of ["[]", "null", "1", '{"event":""}', '{"event":1}', '{"event":"a","id":1.5}', '{"event":"a","id":"1"}', `{"event":"${"x".repeat(129)}"}`]) {
      expect(parseFrame(bad)).toBe("ERR_WS_BAD_FRAME");
    }
  });
  test("sizes are UTF-8 bytes", () => {
    expect(utf8Length("aé€😀")).toBe(1 + 2 + 3 + 4);
    expect(exceedsBytes("€€", 5)).toBe(true);
    expect(exceedsBytes("€€", 6)).toBe(false);
    expect(encodeFrame("ack", null, 3)).toBe('{"event":"ack","id":3,"data":null}');
  });
});

/** A transport that records what the hub did. */
class FakeTransport implements WsTransport {
  sent: Array<Record<string, unknown>> = [];
  closed: { code: number; reason: string } | null = null;
  full = false;
  send(text: string): "sent" | "dropped" | "closed" {
    if (this.closed) return "closed";
    if (this.full) return "dropped";
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
    return "sent";
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
}

const user = (id: string, role: UserRecord["role"] = "user"): UserRecord => ({
  id, email: `${id}@example.com`, name: id, role, profile_image_url: "/secret.png", oauth: { oidc: { sub: "s" } }, last_active_at: 1, created_at: 1, updated_at: 1,
});

/** A hub on the memory store with a stand-in auth module: tokens are `"<userId>:<jti>"`. */
function harness(env: Record<string, string> = {}) {
  const store = new MemoryStore({ prefix: "t" });
  const users = new Map<string, UserRecord>([["u1", user("u1")], ["u2", user("u2")]]);
  const revoked = new Set<string>();
  let verifyDelay: Promise<void> = Promise.resolve();
  const revocation = {
    listeners: new Set<(e: { userId?: string; jti?: string }) => void>(),
    revokedLocally: (c: { jti?: string }) => (c.jti && revoked.has(c.jti) ? true : undefined),
    isRevoked: async (c: { jti?: string }) => !!c.jti && revoked.has(c.jti),
  };
  const userCache = { listeners: new Set<(id: string) => void>(), get: async (id: string) => users.get(id) ?? null };
  const current = {
    async verified(req: Request) {
      const [id, jti] = (req.headers.get("authorization") ?? "").replace("Bearer ", "").split(":");
      const u = users.get(id ?? "");
      if (!u || !jti) throw new UnauthorizedError("no", "ERR_TOKEN_SIGNATURE");
      if (revoked.has(jti)) throw new UnauthorizedError("no", "ERR_TOKEN_REVOKED");
      if (u.role === "pending") throw new UnauthorizedError("no", "ERR_ROLE_PENDING");
      // Checked, not yet answered: the window a concurrent revocation can fall into.
      await verifyDelay;
      return { user: u, via: "jwt", claims: { id: u.id, jti, iat: 1, exp: Math.floor(Date.now() / 1000) + 3600 }, credential: { value: "", source: "bearer", isApiKey: false } };
    },
  };
  const deps: WsHubDeps = {
    config: loadConfig({ GATEHOUSE_WS_MAX_PAYLOAD: "1024", ...env }).ws,
    store, log: createLogger("silent"), registry: new Registry(),
    auth: { current, revocation, userCache, activity: { note() {} } } as unknown as WsHubDeps["auth"],
    channels: { channelsFor: async () => ["c1"] },
    trustedEmailHeader: null,
  };
  const hub = new WsHub(deps);
  registerCoreEvents(hub, deps.auth.activity, deps.config);
  const open = (token: string | null = null) => {
    const t = new FakeTransport();
    return { t, conn: hub.open(t, { token, trustedEmail: null }) };
  };
  return { hub, store, users, revoked, revocation, userCache, open, slowVerify: (p: Promise<void>) => (verifyDelay = p) };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

describe("hub", () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup) await c();
    cleanup = [];
  });
  const make = async (env: Record<string, string> = {}) => {
    const h = harness(env);
    await h.hub.start();
    cleanup.push(() => h.hub.stop(), () => h.store.close());
    return h;
  };

  test("frames sent while a join is verifying run after it, in order", async () => {
    const h = await make();
    let go!: () => void;
    h.slowVerify(new Promise<void>((r) => (go = r)));
    const { t, conn } = h.open();
    h.hub.message(conn, JSON.stringify({ event: "user-join", data: { auth: { token: "u1:j1" } }, id: 1 }));
    h.hub.message(conn, JSON.stringify({ event: "heartbeat", id: 2 }));
    h.hub.message(conn, JSON.stringify({ event: "join-channels", id: 3 }));
    h.hub.message(conn, JSON.stringify({ event: "heartbeat", id: 4 }));
    await settle();
    expect(t.sent).toEqual([]);
    go();
    await settle();
    expect(t.sent.map((f) => [f["event"], f["id"]])).toEqual([["ack", 1], ["ack", 2], ["ack", 3], ["ack", 4]]);
    expect(t.sent[2]!["data"]).toEqual({ channels: ["c1"] });
  });

  test("the pooled snapshot leaves out the profile image and OAuth subjects", async () => {
    const h = await make();
    h.open("u1:j1");
    await settle();
    const [entry] = Object.values(await h.store.hgetall(SESSION_POOL_KEY));
    expect(Object.keys(JSON.parse(entry!)).sort()).toEqual(["created_at", "email", "id", "last_active_at", "last_seen_at", "name", "role", "updated_at"]);
  });

  test("a revocation event closes exactly the sockets whose token is now revoked", async () => {
    const h = await make();
    const one = h.open("u1:j1");
    const two = h.open("u1:j2");
    await settle();
    h.revoked.add("j1");
    for (const l of h.revocation.listeners) l({ jti: "j1" });
    await settle();
    expect(one.t.closed).toEqual({ code: 4001, reason: "Unauthorized" });
    expect(two.t.closed).toBeNull();
    expect(Object.keys(await h.store.hgetall(SESSION_POOL_KEY))).toEqual([two.conn.id]);
  });

  test("a revocation that lands while a socket is verifying still closes it", async () => {
    const h = await make();
    let go!: () => void;
    h.slowVerify(new Promise<void>((r) => (go = r)));
    const { t } = h.open("u1:j1");
    await settle();
    // The verification has read "not revoked"; the event arrives before the socket is indexed.
    h.revoked.add("j1");
    for (const l of h.revocation.listeners) l({ jti: "j1" });
    go();
    await settle();
    expect(t.closed).toEqual({ code: 4001, reason: "Unauthorized" });
    expect(t.sent).toEqual([]);
  });

  test("a demotion to pending closes the user's sockets; a role change updates the pool", async () => {
    const h = await make();
    const s = h.open("u1:j1");
    await settle();
    h.users.set("u1", { ...user("u1"), role: "admin" });
    for (const l of h.userCache.listeners) l("u1");
    await settle();
    expect(JSON.parse(Object.values(await h.store.hgetall(SESSION_POOL_KEY))[0]!).role).toBe("admin");
    h.users.set("u1", { ...user("u1"), role: "pending" });
    for (const l of h.userCache.listeners) l("u1");
    await settle();
    expect(s.t.closed?.code).toBe(4001);
    expect(await h.store.hlen(SESSION_POOL_KEY)).toBe(0);
  });

  test("oversize emits throw synchronously; a client over the backpressure limit is closed with 1013", async () => {
    const h = await make();
    const s = h.open("u1:j1");
    await settle();
    expect(() => h.hub.emitToUser("u1", "big", "x".repeat(2000))).toThrow(WsPayloadTooLargeError);
    s.t.full = true;
    expect(await h.hub.emitToUser("u1", "e", 1)).toEqual({ local: 0, published: true });
    expect(s.t.closed).toEqual({ code: 1013, reason: "Client too slow" });
  });

  test("draining closes every socket with 1001 and empties our pool entries", async () => {
    const h = await make();
    const s = h.open("u1:j1");
    const anon = h.open();
    await settle();
    await h.hub.drain();
    expect(s.t.closed?.code).toBe(1001);
    expect(anon.t.closed?.code).toBe(1001);
    expect(await h.store.hlen(SESSION_POOL_KEY)).toBe(0);
    expect(h.hub.accepting).toBe(false);
  });
});

describe("reaper", () => {
  test("removes stale entries of other instances under a lock; keeps fresh and local ones", async () => {
    const store = new MemoryStore({ prefix: "r" });
    const pool = new SessionPool(store);
    const u = { id: "u", email: "e", name: "n", role: "user", last_active_at: null, created_at: null, updated_at: null };
    await pool.write("ghost", u, 1000);
    await pool.write("local-but-old", u, 1000);
    await pool.write("fresh", u, 1100);
    await store.hset(SESSION_POOL_KEY, "garbage", "not json");
    const reaper = (id: string) => new PoolReaper(store, pool, { timeoutSeconds: 120, intervalMs: 60_000, instanceId: id }, (sid) => sid === "local-but-old");
    expect(await reaper("a").reapOnce(1200)).toBe(2);
    expect(Object.keys(await store.hgetall(SESSION_POOL_KEY)).sort()).toEqual(["fresh", "local-but-old"]);
    // Another instance within the same interval finds the lock taken.
    expect(await reaper("b").reapOnce(1300)).toBeNull();
    await store.close();
  });
});
