import { afterAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { MemoryStore } from "../../src/kv/memory.ts";
import { createRedisStore, RedisStore, type RedisStoreOptions } from "../../src/kv/redis.ts";
import { createStore } from "../../src/kv/create-store.ts";
import { StoreUnavailableError } from "../../src/kv/errors.ts";
import { startRedis } from "../harness/services.ts";
import { redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { storeContract } from "./kv-contract.ts";
import { waitFor } from "../helpers/wait.ts";

// Explicit, because `bun test` with several files applies the preload's default timeout to the first file only.
const SLOW = 60_000;

const raws: Redis[] = [];
afterAll(() => raws.forEach((r) => r.disconnect()));

function plain(url: string, db = 0): Redis {
  const r = new Redis(url, { db, maxRetriesPerRequest: 1 });
  raws.push(r);
  return r;
}

function options(url: string | null, prefix = uniquePrefix("kv")): RedisStoreOptions {
  return { url, sentinelHosts: [], sentinelPort: 26379, sentinelMaxRetryCount: 2, cluster: false, prefix };
}

/** Runs `op`, expecting a StoreUnavailableError; returns how long the rejection took. */
async function unavailableAfter(op: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const err = await op().then(() => null, (e: unknown) => e);
  const ms = performance.now() - t0;
  expect(err).toBeInstanceOf(StoreUnavailableError);
  expect((err as StoreUnavailableError).status).toBe(503);
  expect((err as StoreUnavailableError).code).toBe("ERR_STORE_UNAVAILABLE");
  return ms;
}

async function answers(store: RedisStore): Promise<boolean> {
  return store.ping().then(() => true, () => false);
}

storeContract("memory", async () => new MemoryStore({ prefix: `test-${crypto.randomUUID()}` }));

storeContract(
  "redis standalone",
  async () => createRedisStore(options(await redisUrl(), `test-${crypto.randomUUID()}`)),
  undefined,
  async (wire) => plain(await redisUrl()).get(wire),
);

describe("redis standalone: outages", () => {
  test("Redis stopped: ping() and get() reject within a bounded time; the same store recovers on restart", async () => {
    const own = await startRedis();
    const store = createRedisStore(options(own.url));
    try {
      await store.set("k", "v");
      const got: string[] = [];
      await store.subscribe("survives", (m) => got.push(m));
      await own.stop();
      const getMs = await unavailableAfter(() => store.get("k"));
      const pingMs = await unavailableAfter(() => store.ping());
      const setMs = await unavailableAfter(() => store.set("k", "w"));
      console.log(`redis down: get rejected in ${getMs.toFixed(0)} ms, ping ${pingMs.toFixed(0)} ms, set ${setMs.toFixed(0)} ms`);
      for (const ms of [getMs, pingMs, setMs]) expect(ms).toBeLessThan(2500);
      const revived = await startRedis({ port: own.port });
      try {
        const t0 = performance.now();
        await waitFor("store answers again", () => answers(store), 15_000);
        console.log(`redis back: the same store answered after ${(performance.now() - t0).toFixed(0)} ms`);
        await store.set("k", "again");
        expect(await store.get("k")).toBe("again");
        await waitFor("the subscription was remade on reconnect", async () => {
          await store.publish("survives", "after-restart");
          return got.includes("after-restart");
        });
      } finally {
        await revived.stop();
      }
    } finally {
      await store.close();
    }
  }, SLOW);

  test("Redis hung (SIGSTOP, socket open): a sent command times out instead of hanging", async () => {
    const own = await startRedis();
    const store = createRedisStore(options(own.url));
    try {
      await store.set("k", "v");
      own.kill("SIGSTOP");
      try {
        const ms = await unavailableAfter(() => store.get("k"));
        console.log(`redis hung: get rejected in ${ms.toFixed(0)} ms`);
        expect(ms).toBeLessThan(2500);
      } finally {
        own.kill("SIGCONT");
      }
      await waitFor("store answers after SIGCONT", () => answers(store), 10_000);
      expect(await store.get("k")).toBe("v");
    } finally {
      await store.close();
      await own.stop();
    }
  }, SLOW);

  test("a subscription made while Redis is down is established when Redis comes back", async () => {
    const own = await startRedis();
    const store = createRedisStore(options(own.url));
    try {
      await own.stop();
      const got: string[] = [];
      const t0 = performance.now();
      await store.subscribe("late", (m) => got.push(m));
      expect(performance.now() - t0).toBeLessThan(3000);
      // Longer than two reconnect attempts, after which a queue with maxRetriesPerRequest 1 is flushed.
      await Bun.sleep(2500);
      const revived = await startRedis({ port: own.port });
      try {
        await waitFor("message delivered to the early subscription", async () => {
          await store.publish("late", "hi").catch(() => 0);
          return got.includes("hi");
        }, 15_000);
      } finally {
        await revived.stop();
      }
    } finally {
      await store.close();
    }
  }, SLOW);

  test("a connection ioredis gave up on (status end) is connected again: the store does not stay down", async () => {
    const store = createRedisStore(options(await redisUrl()));
    try {
      await store.set("alive", "1");
      // What ioredis does when it races a failover: the connection ends and would never retry.
      const ended = new Promise<void>((resolve) => store.client.once("end", () => resolve()));
      store.client.disconnect();
      await ended;
      await waitFor("the command connection came back", async () => store.client.status === "ready");
      expect(await store.get("alive")).toBe("1");
    } finally {
      await store.close();
    }
  }, SLOW);

  test("commands after close() fail at once", async () => {
    const store = createRedisStore(options(await redisUrl()));
    await store.close();
    expect(await unavailableAfter(() => store.get("k"))).toBeLessThan(100);
  }, SLOW);
});

describe("redis standalone: URL handling", () => {
  test("password and db come from the URL; errors never carry the password", async () => {
    // Set after start: the harness's readiness PING does not authenticate.
    const own = await startRedis();
    try {
      const admin = plain(own.url);
      await admin.config("SET", "requirepass", "right-pass");
      admin.disconnect();
      const store = createRedisStore(options(`redis://:right-pass@127.0.0.1:${own.port}/3`, "p"));
      await store.set("k", "in-db-3");
      expect(await plain(`redis://:right-pass@127.0.0.1:${own.port}`, 3).get("p:k")).toBe("in-db-3");
      expect(await plain(`redis://:right-pass@127.0.0.1:${own.port}`, 0).get("p:k")).toBeNull();
      await store.close();

      const wrong = createRedisStore(options(`redis://:sup3rsecret@127.0.0.1:${own.port}/0`, "p"));
      const refused = createRedisStore(options("redis://user:sup3rsecret@127.0.0.1:1/0", "x"));
      for (const s of [wrong, refused]) {
        const err = await s.get("k").catch((e: unknown) => e);
        await s.close();
        expect(err).toBeInstanceOf(StoreUnavailableError);
        const everything = [String(err), (err as Error).stack, JSON.stringify(err), String((err as Error).cause)].join(" ");
        expect(everything).not.toContain("sup3rsecret");
        expect((err as Error).message).toBe("Shared store is unavailable. Please retry.");
      }
    } finally {
      await own.stop();
    }
  }, SLOW);

  test("a malformed URL is refused without quoting it", () => {
    for (const url of ["redis://:sup3rsecret@127.0.0.1:notaport", "http://:sup3rsecret@127.0.0.1:6379"]) {
      let message = "";
      try {
        createRedisStore(options(url));
      } catch (e) {
        message = String(e);
      }
      expect(message).toContain("REDIS_URL");
      expect(message).not.toContain("sup3rsecret");
    }
  }, SLOW);

  test("createStore picks memory without Redis settings, else the right Redis mode", async () => {
    const base = { sentinelPort: 26379, sentinelMaxRetryCount: 2, cluster: false, keyPrefix: "open-webui" };
    const cases = [
      { s: { ...base, url: null, sentinelHosts: [] }, kind: "memory" },
      { s: { ...base, url: await redisUrl(), sentinelHosts: [] }, kind: "redis" },
      { s: { ...base, url: "redis://mymaster:0/0", sentinelHosts: ["127.0.0.1"] }, kind: "sentinel" },
      { s: { ...base, url: "redis://mymaster:0/0", sentinelHosts: ["127.0.0.1"], cluster: true }, kind: "sentinel" },
      { s: { ...base, url: "redis://127.0.0.1:1", sentinelHosts: [], cluster: true }, kind: "cluster" },
    ] as const;
    for (const c of cases) {
      const { store } = createStore(c.s);
      expect(store.kind).toBe(c.kind);
      expect(store.prefix).toBe("open-webui");
      await store.close();
    }
  }, SLOW);
});
