/**
 * Attack: use `/ws/socket.io` to get around what raw `/ws` upgrades enforce — flood the
 * instance with anonymous Socket.IO sockets (alone or on top of raw `/ws` ones), escape the
 * per-client cap with a made-up X-Forwarded-For, ride a visitor's `token` cookie from another
 * site, and set the trusted email header without being the trusted proxy (or get it ignored
 * when the trusted proxy did set it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "socket.io-client";
import { connected, openWebUISocket, refused, request } from "../helpers/sio-client.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { within } from "../helpers/wait.ts";
import { signUp, startSecurityServer, type SecurityServer } from "./security-server.ts";

const TRY_LATER = 1013;
const POLICY = 1008;

describe("Socket.IO admission from an untrusted peer (127.0.0.1 is not the proxy)", () => {
  let s: SecurityServer;
  let ada: { token: string; id: string };
  const open: Array<{ close(): void }> = [];

  beforeAll(async () => {
    s = await startSecurityServer("sio_admit", {
      GATEHOUSE_TRUSTED_PROXIES: "10.9.9.9",
      WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email",
      GATEHOUSE_WS_ANON_PER_CLIENT: "3",
      GATEHOUSE_WS_ANON_MAX: "50",
      GATEHOUSE_WS_AUTH_TIMEOUT_MS: "20000",
    });
    ada = await signUp(s, "ada@example.com");
  });
  afterAll(async () => {
    for (const x of open) x.close();
    await s.close();
  });

  const sio = (token?: string, extraHeaders?: Record<string, string>) => {
    const c = openWebUISocket(s.baseUrl, token, ["websocket"], extraHeaders ? { extraHeaders } : {});
    open.push(c.socket);
    return c;
  };
  const anonSio = async (extraHeaders?: Record<string, string>) => {
    const c = sio(undefined, extraHeaders);
    await connected(c.socket);
    return c.socket;
  };
  const rawWs = async () => {
    const x = await TestSocket.open(wsUrl(s.baseUrl));
    open.push(x);
    return x;
  };
  const closeAll = async (sockets: Array<Socket | TestSocket>) => {
    for (const x of sockets) x.close();
    // The server frees the slots when it sees the closes.
    await Bun.sleep(150);
  };

  test("one client's 4th anonymous Socket.IO socket gets connect_error 1013, a spoofed X-Forwarded-For included; user-join frees a slot", async () => {
    const first = [await anonSio(), await anonSio(), await anonSio()];
    const fourth = sio(undefined, { "x-forwarded-for": "203.0.113.9" });
    const e = await refused(fourth.socket);
    expect([e.message, e.data]).toEqual(["Too many unauthenticated sockets", { code: TRY_LATER }]);
    expect(first.every((x) => x.connected)).toBe(true);
    // Signing in moves a socket out of the anonymous count.
    expect(await request(first[0]!, "user-join", { auth: { token: ada.token } })).toEqual({ id: ada.id, name: "ada" });
    const again = await anonSio();
    await closeAll([...first, fourth.socket, again]);
  });

  test("the cap is one across transports: raw /ws anonymous sockets fill it for Socket.IO, and the other way round", async () => {
    const raws = [await rawWs(), await rawWs(), await rawWs()];
    const over = sio();
    expect((await refused(over.socket)).data).toEqual({ code: TRY_LATER });
    // A raw socket closing frees its slot for Socket.IO: 2 raw + 1 Socket.IO, and a 4th raw one is refused.
    raws[0]!.close();
    await within(2000, async () => s.gatehouse.instance.ws.counts().anonymous === 2);
    const sioIn = await anonSio();
    const rawOver = await rawWs();
    expect((await rawOver.closedWithin(2000)).code).toBe(TRY_LATER);
    await closeAll([...raws, over.socket, sioIn]);
  });

  test("a handshake with a valid token is never counted as anonymous, even with the cap full", async () => {
    for (const x of open) x.close();
    await Bun.sleep(150);
    const anons = [await anonSio(), await anonSio(), await anonSio()];
    const signedIn = sio(ada.token);
    await connected(signedIn.socket);
    await Bun.sleep(300);
    expect([signedIn.socket.connected, signedIn.seen.disconnects]).toEqual([true, []]);
    await closeAll([...anons, signedIn.socket]);
  });

  test("a cross-site handshake carrying only the token cookie is refused; same-site cookie and cross-site auth.token are not", async () => {
    const crossSite = sio(undefined, { origin: "https://evil.example", cookie: `token=${ada.token}` });
    const e = await refused(crossSite.socket);
    expect([e.message, e.data]).toEqual(["Origin not allowed", { code: POLICY }]);
    // Same origin: the cookie is no credential on Socket.IO (auth.token is), the socket is anonymous.
    const sameOrigin = sio(undefined, { origin: s.origin, cookie: `token=${ada.token}` });
    await connected(sameOrigin.socket);
    // CORS_ALLOW_ORIGIN is "*": a foreign page with its own auth.token may connect (Open WebUI's dev server).
    const withToken = sio(ada.token, { origin: "https://evil.example", cookie: `token=${ada.token}` });
    await connected(withToken.socket);
    await closeAll([crossSite.socket, sameOrigin.socket, withToken.socket]);
  });

  test("Socket.IO's HTTP requests and refusals are counted in the ws metrics, labelled transport=socketio", async () => {
    const metrics = await s.gatehouse.services.registry.metrics();
    const value = (line: RegExp) => Number(metrics.split("\n").find((l) => line.test(l))?.split(" ").at(-1) ?? "NaN");
    expect(value(/^gatehouse_ws_http_requests_total\{transport="socketio",kind="handshake",outcome="accepted"\}/)).toBeGreaterThan(5);
    expect(value(/^gatehouse_ws_auth_failures_total\{reason="too_many_anonymous",transport="socketio"\}/)).toBeGreaterThanOrEqual(1);
    expect(value(/^gatehouse_ws_auth_failures_total\{reason="cross_site_cookie",transport="socketio"\}/)).toBe(1);
  });

  test("a trusted email header from an untrusted peer is ignored (no mismatch refusal, no effect)", async () => {
    const spoofed = sio(ada.token, { "x-forwarded-email": "eve@example.com" });
    await connected(spoofed.socket);
    expect(await request(spoofed.socket, "user-join", { auth: { token: ada.token } })).toEqual({ id: ada.id, name: "ada" });
    spoofed.socket.close();
  });
});

describe("Socket.IO behind the trusted proxy (127.0.0.1 is the proxy)", () => {
  let s: SecurityServer;
  let ada: { token: string; id: string };
  const open: Array<{ close(): void }> = [];

  beforeAll(async () => {
    s = await startSecurityServer("sio_proxy", {
      GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1",
      WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email",
      GATEHOUSE_WS_ANON_PER_CLIENT: "2",
      GATEHOUSE_WS_AUTH_TIMEOUT_MS: "20000",
    });
    ada = await signUp(s, "ada@example.com");
  });
  afterAll(async () => {
    for (const x of open) x.close();
    await s.close();
  });
  const sio = (token: string | undefined, extraHeaders: Record<string, string>) => {
    const c = openWebUISocket(s.baseUrl, token, ["websocket"], { extraHeaders });
    open.push(c.socket);
    return c;
  };

  test("the proxy's email header counts: another user's token is refused (4001)", async () => {
    const mismatch = sio(ada.token, { "x-forwarded-email": "eve@example.com" });
    expect((await refused(mismatch.socket)).data).toEqual({ code: 4001 });
    const match = sio(ada.token, { "x-forwarded-email": "ada@example.com" });
    await connected(match.socket);
  });

  test("the per-client cap counts the address the proxy forwarded", async () => {
    const a = sio(undefined, { "x-forwarded-for": "203.0.113.1" });
    const b = sio(undefined, { "x-forwarded-for": "203.0.113.1" });
    await Promise.all([connected(a.socket), connected(b.socket)]);
    expect((await refused(sio(undefined, { "x-forwarded-for": "203.0.113.1" }).socket)).data).toEqual({ code: TRY_LATER });
    // Another client behind the same proxy has its own count.
    await connected(sio(undefined, { "x-forwarded-for": "203.0.113.2" }).socket);
  });
});
