// Idle sockets (issue 19, item 6: sockets held for minutes): the runtime pings an authenticated
// socket that has been quiet for a while (GATEHOUSE_WS_IDLE_TIMEOUT_SECONDS), a client that
// answers with pongs stays open indefinitely without sending anything else, and one that never
// answers is dropped — so held sockets cost nothing but the pings, and dead peers are reaped.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { RUNTIMES, startServerProcess, wsServerFixture, type Runtime, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { waitFor } from "../helpers/wait.ts";

/** Small, but one at which both runtimes ping before closing (Bun: ping after 4 s idle, close 4 s later, on 4-s timer ticks). */
const IDLE_TIMEOUT_SECONDS = 8;

const servers = new Map<Runtime, { server: ServerProcess; token: string }>();

beforeAll(async () => {
  const redis = await redisUrl();
  await Promise.all(RUNTIMES.map(async (runtime) => {
    const server = await startServerProcess({
      DATABASE_URL: await freshDatabaseUrl(`ws_idle_${runtime}`), REDIS_URL: redis, REDIS_KEY_PREFIX: uniquePrefix(`ws-idle-${runtime}`),
      WEBUI_SECRET_KEY: "ws-idle-secret", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
      GATEHOUSE_WS_IDLE_TIMEOUT_SECONDS: String(IDLE_TIMEOUT_SECONDS),
    }, wsServerFixture(runtime));
    const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, postJson({ name: "idle", email: "idle@example.com", password: "pw" }));
    servers.set(runtime, { server, token: ((await r.json()) as { token: string }).token });
  }));
});
afterAll(() => {
  for (const { server } of servers.values()) server.kill("SIGKILL");
});

/**
 * A WebSocket client on a bare TCP socket that never answers pings: it upgrades with `?token=`,
 * sends one frame with an id, and records the opcodes of the frames it receives.
 */
async function silentClient(url: string): Promise<{ opcodes: number[]; text: string[]; closed: Promise<void>; socket: Socket }> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  const opcodes: number[] = [];
  const text: string[] = [];
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  let buffered = Buffer.alloc(0);
  let upgraded = false;
  const opened = new Promise<void>((resolve, reject) => {
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!upgraded) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!buffered.subarray(0, 12).toString().includes("101")) return reject(new Error(buffered.toString()));
        upgraded = true;
        buffered = buffered.subarray(end + 4);
        resolve();
      }
      // Server frames are unmasked; these are all short (7-bit or 16-bit lengths).
      while (buffered.length >= 2) {
        let len = buffered[1]! & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buffered.length < 4) return;
          len = buffered.readUInt16BE(2);
          at = 4;
        }
        if (buffered.length < at + len) return;
        opcodes.push(buffered[0]! & 0x0f);
        if ((buffered[0]! & 0x0f) === 1) text.push(buffered.subarray(at, at + len).toString());
        buffered = buffered.subarray(at + len);
      }
    });
    socket.once("error", reject);
  });
  socket.write(
    `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${Buffer.from("0123456789abcdef").toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await opened;
  // One masked text frame (a client must mask): a heartbeat with an id, answered by an ack once admitted.
  const payload = Buffer.from(JSON.stringify({ event: "heartbeat", data: {}, id: 1 }));
  const mask = Buffer.from([1, 2, 3, 4]);
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4]!)]));
  return { opcodes, text, closed, socket };
}

/** The scenario on one runtime's server; throws naming the runtime when a step fails. */
async function idleScenario(runtime: Runtime): Promise<void> {
  const { server, token } = servers.get(runtime)!;
  const answering = await TestSocket.open(wsUrl(server.baseUrl, token));
  expect((await answering.request("heartbeat", {})).event).toBe("ack");
  const silent = await silentClient(wsUrl(server.baseUrl, token));
  await waitFor(`${runtime}: the silent client's ack`, () => silent.text.some((t) => JSON.parse(t).event === "ack"), 10_000);
  const quietSince = performance.now();

  // Ping opcode 0x9; the close comes as a dropped connection (no pong = a dead peer), whatever the close frame.
  await waitFor(`${runtime}: a ping to the silent client`, () => silent.opcodes.includes(0x9), 3 * IDLE_TIMEOUT_SECONDS * 1000);
  await Promise.race([silent.closed, Bun.sleep(4 * IDLE_TIMEOUT_SECONDS * 1000).then(() => { throw new Error(`${runtime}: the silent client was not dropped`); })]);

  // The answering socket has sent nothing but pongs for at least as long: still open and authenticated.
  await Bun.sleep(Math.max(0, 2 * IDLE_TIMEOUT_SECONDS * 1000 - (performance.now() - quietSince)));
  expect({ runtime, open: answering.isOpen }).toEqual({ runtime, open: true });
  const stats = (await (await fetch(`${server.baseUrl}/test/ws/stats`)).json()) as { authenticated: number };
  expect({ runtime, authenticated: stats.authenticated }).toEqual({ runtime, authenticated: 1 });
  expect((await answering.request("heartbeat", {})).event).toBe("ack");
  answering.close();
}

// Both runtimes side by side: each waits out two idle timeouts.
test("an idle authenticated socket that answers pings stays open past the idle timeout; one that never answers is pinged, then dropped (Bun and Deno)", async () => {
  await Promise.all(RUNTIMES.map(idleScenario));
}, 90_000);
