import { afterAll, beforeAll, expect, test } from "bun:test";
import Redis from "ioredis";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { within } from "../helpers/wait.ts";

const USERS = 10;
const PER_USER = 100;

const procs: ServerProcess[] = [];
const sockets: TestSocket[] = [];
let a: ServerProcess;
let b: ServerProcess;
let prefix: string;
let redis: Redis;

beforeAll(async () => {
  prefix = uniquePrefix("ws-scale");
  const env = {
    DATABASE_URL: await freshDatabaseUrl("ws_scale"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: prefix,
    WEBUI_SECRET_KEY: "ws-scale-secret", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
    GATEHOUSE_WS_MAX_SOCKETS_PER_USER: String(PER_USER),
  };
  [a, b] = await Promise.all([startServerProcess(env, WS_SERVER_FIXTURE), startServerProcess(env, WS_SERVER_FIXTURE)]);
  procs.push(a, b);
  redis = new Redis(await redisUrl());
});
afterAll(() => {
  for (const s of sockets) s.close();
  redis.disconnect();
  for (const p of procs) p.kill("SIGKILL");
});

const stats = async (s: ServerProcess) => (await (await fetch(`${s.baseUrl}/test/ws/stats`)).json()) as { authenticated: number; anonymous: number };

test(`${USERS * PER_USER} sockets on two instances join and all receive one broadcast`, async () => {
  const users: Array<{ token: string; id: string }> = [];
  for (let i = 0; i < USERS; i++) {
    const r = await fetch(`${a.baseUrl}/api/v1/auths/signup`, postJson({ name: `u${i}`, email: `scale${i}@example.com`, password: "pw" }));
    users.push((await r.json()) as { token: string; id: string });
  }
  // Half the sockets authenticate at upgrade, half with user-join; half on each instance.
  const targets = users.flatMap((u) => Array.from({ length: PER_USER }, (_, i) => ({ u, server: i % 2 === 0 ? a : b, atUpgrade: i % 4 < 2 })));
  for (let i = 0; i < targets.length; i += 100) {
    const batch = await Promise.all(targets.slice(i, i + 100).map(async ({ u, server, atUpgrade }) => {
      const s = await TestSocket.open(wsUrl(server.baseUrl, atUpgrade ? u.token : undefined));
      if (!atUpgrade) expect((await s.join(u.token)).event).toBe("ack");
      return s;
    }));
    sockets.push(...batch);
  }
  await within(15_000, async () => (await stats(a)).authenticated === targets.length / 2 && (await stats(b)).authenticated === targets.length / 2);
  await within(15_000, async () => (await redis.hlen(`${prefix}:session_pool`)) === targets.length);

  const started = performance.now();
  const r = await fetch(`${a.baseUrl}/test/ws/emit`, postJson({ to: "all", event: "announcement", data: { n: 1 } }));
  expect(await r.json()).toEqual({ local: targets.length / 2, published: true });
  await Promise.all(sockets.map((s) => s.event("announcement", 15_000)));
  console.log(`broadcast reached ${sockets.length} sockets on two instances in ${(performance.now() - started).toFixed(1)} ms`);

  // A user emit reaches exactly that user's sockets, on both instances.
  await fetch(`${b.baseUrl}/test/ws/emit`, postJson({ to: "user", target: users[3]!.id, event: "mine", data: 3 }));
  const mine = sockets.filter((_, i) => targets[i]!.u === users[3]);
  await Promise.all(mine.map((s) => s.event("mine", 15_000)));
  await Bun.sleep(100);
  expect(sockets.filter((s) => s.frames.some((f) => f.event === "mine"))).toHaveLength(PER_USER);
  for (const s of sockets) expect(s.isOpen).toBe(true);
});
