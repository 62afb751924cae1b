import { afterAll, beforeAll, expect, test } from "bun:test";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";

let server: ServerProcess;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  // No REDIS_URL: the in-memory store, one instance.
  server = await startServerProcess({ DATABASE_URL: await freshDatabaseUrl("ws_memory"), WEBUI_SECRET_KEY: "ws-memory-secret" }, WS_SERVER_FIXTURE);
});
afterAll(() => {
  for (const s of sockets) s.close();
  server.kill("SIGKILL");
});

test("with the in-memory store: join, emits to the user, a room and everyone arrive once; sign-out closes with 4001", async () => {
  expect(server.output()).toContain("in-memory");
  const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, postJson({ name: "Mem", email: "mem@example.com", password: "pw" }));
  const { token, id } = (await r.json()) as { token: string; id: string };
  const s = await TestSocket.open(wsUrl(server.baseUrl));
  sockets.push(s);
  expect(await s.join(token)).toEqual({ event: "ack", id: 1, data: { id, name: "Mem" } });
  const emit = (body: Record<string, unknown>) => fetch(`${server.baseUrl}/test/ws/emit`, postJson(body)).then((x) => x.json());
  expect(await emit({ to: "user", target: id, event: "one", data: 1 })).toEqual({ local: 1, published: true });
  expect(await emit({ to: "room", target: `user:${id}`, event: "two", data: 2 })).toEqual({ local: 1, published: true });
  expect(await emit({ to: "all", event: "three", data: 3 })).toEqual({ local: 1, published: true });
  await s.event("three");
  await Bun.sleep(100);
  // Delivered here directly; the store echoes the publish back, and it must not be delivered twice.
  expect(s.frames.filter((f) => f.event !== "ack").map((f) => f.event)).toEqual(["one", "two", "three"]);
  await fetch(`${server.baseUrl}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${token}` } });
  expect(await s.closedWithin(1000)).toEqual({ code: 4001, reason: "Unauthorized" });
});
