/**
 * A socket follows its session: when the token it joined with is renewed over HTTP (same
 * session id, later `exp`) on another instance, the socket stays open past the old `exp`
 * and is closed with 4001 once the renewed one passes too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";

const expOf = (token: string) => decodeJwt(token) as { exp: number; jti: string };

describe("WebSocket expiry follows session renewal across instances", () => {
  let a: ServerProcess;
  let b: ServerProcess;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    const env = {
      DATABASE_URL: await freshDatabaseUrl("ws_renewal"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("ws-renewal"),
      WEBUI_SECRET_KEY: "ws-renewal-secret", GATEHOUSE_LOG_LEVEL: "warn", JWT_EXPIRES_IN: "4s", GATEHOUSE_WS_REAPER_INTERVAL_MS: "100",
    };
    [a, b] = await Promise.all([startServerProcess(env, WS_SERVER_FIXTURE), startServerProcess(env, WS_SERVER_FIXTURE)]);
  });
  afterAll(() => {
    for (const s of sockets) s.close();
    a?.kill("SIGKILL");
    b?.kill("SIGKILL");
  });

  test("renewed on A: the socket on B outlives the first exp, then closes with 4001 after the renewed exp", async () => {
    const up = await fetch(`${a.baseUrl}/api/v1/auths/signup`, postJson({ name: "R", email: "r@example.com", password: "renewal-password-1" }));
    const first = ((await up.json()) as { token: string }).token;
    const { exp: firstExp, jti } = expOf(first);

    const socket = await TestSocket.open(wsUrl(b.baseUrl));
    sockets.push(socket);
    expect((await socket.join(first)).event).toBe("ack");
    let closedAt: number | null = null;
    void socket.closed.then(() => (closedAt = Date.now()));

    // The session user endpoint renews in the token's last quarter: poll until it does.
    let renewed = first;
    while (renewed === first && Date.now() < firstExp * 1000) {
      const r = await fetch(`${a.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${first}` } });
      renewed = ((await r.json()) as { token: string }).token;
      if (renewed === first) await Bun.sleep(100);
    }
    expect(renewed).not.toBe(first);
    const second = expOf(renewed);
    expect(second.jti).toBe(jti);
    expect(second.exp).toBeGreaterThan(firstExp);

    // Past the first exp (+ a few upkeep intervals): still open.
    await Bun.sleep(firstExp * 1000 + 600 - Date.now());
    expect(closedAt).toBeNull();
    expect(socket.isOpen).toBe(true);

    // Past the renewed exp: closed as unauthorised.
    const closed = await Promise.race([socket.closed, Bun.sleep(second.exp * 1000 + 3000 - Date.now()).then(() => null)]);
    expect(closed?.code).toBe(4001);
    expect(closedAt!).toBeGreaterThanOrEqual(second.exp * 1000);
  });
});
