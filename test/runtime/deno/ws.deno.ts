// The socket hub served through Deno.upgradeWebSocket (src/runtime/deno.ts), on the real
// Postgres and the in-memory store: connect, join, receive an emit, and be closed by sign-out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/config.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createServices } from "../../../src/services.ts";
import { assembleInstance } from "../../../src/instance.ts";
import { serveDeno } from "../../../src/runtime/deno.ts";
import { freshDatabase } from "./fresh-database.ts";

/** Resolves with the next frame matching `match`, or rejects after `ms`. */
function nextFrame(frames: Array<Record<string, unknown>>, ws: WebSocket, match: (f: Record<string, unknown>) => boolean, ms = 5000): Promise<Record<string, unknown>> {
  const seen = frames.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no frame within ${ms} ms: ${JSON.stringify(frames)}`)), ms);
    const onMessage = (e: MessageEvent) => {
      const f = JSON.parse(String(e.data)) as Record<string, unknown>;
      if (!match(f)) return;
      clearTimeout(timer);
      ws.removeEventListener("message", onMessage);
      resolve(f);
    };
    ws.addEventListener("message", onMessage);
  });
}

test("Deno.upgradeWebSocket: connect, user-join, receive an emit; sign-out closes the socket with 4001", async () => {
  const config = loadConfig({
    DATABASE_URL: await freshDatabase("ws"), WEBUI_SECRET_KEY: "deno-ws-secret", GATEHOUSE_LOG_LEVEL: "silent",
  });
  const services = await createServices(config, createLogger("silent"), { defaultMetrics: false });
  const instance = await assembleInstance(services);
  const server = serveDeno(instance.gatehouse.fetch, { host: "127.0.0.1", port: 0 }, instance.ws);
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const signup = await fetch(`${base}/api/v1/auths/signup`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Dee", email: "dee@example.com", password: "pw" }),
    });
    assert.equal(signup.status, 200);
    const { token, id } = (await signup.json()) as { token: string; id: string };

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const frames: Array<Record<string, unknown>> = [];
    ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data)) as Record<string, unknown>));
    const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", (e) => resolve(e as CloseEvent)));
    await new Promise((resolve, reject) => {
      ws.addEventListener("open", resolve, { once: true });
      ws.addEventListener("error", reject, { once: true });
    });

    ws.send(JSON.stringify({ event: "user-join", data: { auth: { token } }, id: 1 }));
    assert.deepEqual(await nextFrame(frames, ws, (f) => f["id"] === 1), { event: "ack", id: 1, data: { id, name: "Dee" } });

    const result = await instance.ws.emitToUser(id, "chat-events", { hello: "deno" });
    assert.equal(result.local, 1);
    assert.deepEqual(await nextFrame(frames, ws, (f) => f["event"] === "chat-events"), { event: "chat-events", data: { hello: "deno" } });

    ws.send("not json");
    assert.deepEqual((await nextFrame(frames, ws, (f) => f["event"] === "error"))["data"], { code: "ERR_WS_NOT_JSON", message: "Frame is not valid JSON" });

    await fetch(`${base}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${token}` } });
    const close = await closed;
    assert.equal(close.code, 4001);
    assert.equal(close.reason, "Unauthorized");
  } finally {
    await instance.ws.drain();
    await server.stop();
    await instance.stop();
    await services.close();
  }
});
