import { afterAll, beforeAll, expect, test } from "bun:test";
import { RedisStore } from "../../src/kv/redis.ts";
import { startRedisCluster, type ClusterHandle } from "../harness/services.ts";
import { uniquePrefix } from "../helpers/real-services.ts";
import { eventually } from "./kv-contract.ts";

let cluster: ClusterHandle;
let store: RedisStore;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  const seed = cluster.nodes[0]!;
  store = new RedisStore({
    url: `redis://${seed.host}:${seed.port}`,
    sentinelHosts: [],
    sentinelPort: 26379,
    sentinelMaxRetryCount: 2,
    cluster: true,
    prefix: uniquePrefix("cluster"),
  });
});
afterAll(async () => {
  await store?.close();
  await cluster?.stop();
});

test("a real 3-master cluster: keys across slots, counters, hashes, deletes", async () => {
  expect(store.kind).toBe("cluster");
  const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`);
  await Promise.all(keys.map((k, i) => store.set(k, String(i))));
  const values = await Promise.all(keys.map((k) => store.get(k)));
  expect(values).toEqual(keys.map((_, i) => String(i)));
  expect(await store.incr("counter", 5)).toBe(5);
  await store.hset("h", "f", "v");
  expect(await store.hgetall("h")).toEqual({ f: "v" });
  expect(await store.del("key-0", "key-1", "key-2")).toBe(3);
});

test("the keys really are spread over the masters", async () => {
  const Redis = (await import("ioredis")).default;
  let mastersWithKeys = 0;
  for (const n of cluster.nodes) {
    const c = new Redis({ host: n.host, port: n.port, protocol: 2 });
    const size = Number(await c.dbsize());
    c.disconnect();
    if (size > 0) mastersWithKeys++;
  }
  expect(mastersWithKeys).toBe(3);
});

test("pub/sub through the cluster", async () => {
  const got: string[] = [];
  await store.subscribe("news", (m) => got.push(m));
  await eventually("delivered", async () => {
    await store.publish("news", "x");
    return got.length > 0;
  });
});
