import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis, { Cluster } from "ioredis";
import { createRedisStore, type RedisStore } from "../../src/kv/redis.ts";
import { startRedisCluster, type ClusterHandle } from "../harness/services.ts";
import { uniquePrefix } from "../helpers/real-services.ts";
import { storeContract } from "./kv-contract.ts";
import { waitFor } from "../helpers/wait.ts";

let cluster: ClusterHandle;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

function clusterStore(): RedisStore {
  const seed = cluster.nodes[0]!;
  return createRedisStore({
    url: `redis://${seed.host}:${seed.port}`,
    sentinelHosts: [],
    sentinelPort: 26379,
    sentinelMaxRetryCount: 2,
    cluster: true,
    prefix: uniquePrefix("cluster"),
  });
}

storeContract("redis cluster", async () => clusterStore(), undefined, async (wire) => {
  const raw = new Cluster([cluster.nodes[1]!], { redisOptions: { protocol: 2 } });
  try {
    return await raw.get(wire);
  } finally {
    raw.disconnect();
  }
});

describe("redis cluster", () => {
  let store: RedisStore;
  beforeAll(() => {
    store = clusterStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  test("keys across slots, counters, hashes, multi-key delete", async () => {
    expect(store.kind).toBe("cluster");
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`);
    await Promise.all(keys.map((k, i) => store.set(k, String(i))));
    const values = await Promise.all(keys.map((k) => store.get(k)));
    expect(values).toEqual(keys.map((_, i) => String(i)));
    expect(await store.incr("counter", 5)).toBe(5);
    expect(await store.incr("counter")).toBe(6);
    await store.hset("h", "f", "v");
    expect(await store.hgetall("h")).toEqual({ f: "v" });
    expect(await store.del("key-0", "key-1", "key-2", "missing")).toBe(3);
  });

  test("the keys really are spread over the three masters", async () => {
    let mastersWithKeys = 0;
    for (const n of cluster.nodes) {
      const c = new Redis({ host: n.host, port: n.port, protocol: 2 });
      const size = Number(await c.dbsize());
      c.disconnect();
      if (size > 0) mastersWithKeys++;
    }
    expect(mastersWithKeys).toBe(3);
  });

  test("pub/sub through the cluster, published from another node's connection", async () => {
    const got: string[] = [];
    const un = await store.subscribe("news", (m) => got.push(m));
    const other = new Redis({ ...cluster.nodes[2]!, protocol: 2 });
    await waitFor("delivered", async () => {
      await other.publish(store.wireKey("news"), "x");
      return got.length > 0;
    });
    other.disconnect();
    await un();
  });
});
