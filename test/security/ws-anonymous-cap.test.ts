import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { signUp, startSecurityServer, type SecurityServer } from "./security-server.ts";

// Hole 16: sockets that have not authenticated are capped per client address and in all, refused with 1013.
let s: SecurityServer;
let token: string;
const sockets: TestSocket[] = [];
const TRY_LATER = 1013;

beforeAll(async () => {
  // 127.0.0.1 is the trusted proxy, so X-Forwarded-For tells the clients apart.
  s = await startSecurityServer("ws_anon", { GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1", GATEHOUSE_WS_ANON_PER_CLIENT: "3", GATEHOUSE_WS_ANON_MAX: "5" });
  token = (await signUp(s, "ada@example.com")).token;
});
afterAll(async () => {
  for (const x of sockets) x.close();
  await s.close();
});

const anon = async (client: string) => {
  const x = await TestSocket.open(wsUrl(s.baseUrl), { headers: { "x-forwarded-for": client } });
  sockets.push(x);
  return x;
};

test("one client's 4th unauthenticated socket is closed with 1013; a signed-in one frees its slot", async () => {
  const first = await Promise.all([anon("203.0.113.1"), anon("203.0.113.1"), anon("203.0.113.1")]);
  const fourth = await anon("203.0.113.1");
  expect((await fourth.closedWithin(2000)).code).toBe(TRY_LATER);
  expect(first.every((x) => x.isOpen)).toBe(true);
  // Authenticating moves a socket out of the anonymous count: the client may open another.
  expect((await first[0]!.join(token)).event).toBe("ack");
  const again = await anon("203.0.113.1");
  expect((await again.join(token)).event).toBe("ack");
});

test("the instance-wide cap holds across clients; sockets with a token at upgrade are not counted", async () => {
  // Anonymous now: 2 from 203.0.113.1. Three more reach the global cap of 5.
  await Promise.all([anon("203.0.113.2"), anon("203.0.113.2"), anon("203.0.113.3")]);
  const over = await anon("203.0.113.4");
  expect((await over.closedWithin(2000)).code).toBe(TRY_LATER);
  const withToken = await TestSocket.open(wsUrl(s.baseUrl, token), { headers: { "x-forwarded-for": "203.0.113.4" } });
  sockets.push(withToken);
  expect((await withToken.join(token)).event).toBe("ack");
});
