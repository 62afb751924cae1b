import { afterAll, expect, test } from "bun:test";
import Redis from "ioredis";
import { MemoryStore } from "../../src/kv/memory.ts";
import { RedisStore } from "../../src/kv/redis.ts";
import { StoreUnavailableError } from "../../src/kv/errors.ts";
import type { KeyValueStore } from "../../src/kv/store.ts";
import { startRedis } from "../harness/services.ts";
import { redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { eventually, storeContract } from "./kv-contract.ts";

const raws: Redis[] = [];
afterAll(() => raws.forEach((r) => r.disconnect()));

function redisOptions(url: string, prefix: string) {
  return { url, sentinelHosts: [], sentinelPort: 26379, sentinelMaxRetryCount: 2, cluster: false, prefix };
}

storeContract(
  "memory",
  async () => new MemoryStore({ prefix: uniquePrefix("mem") }),
  async (s, wire) => ((s as MemoryStore).wireKey("") && wire.startsWith(s.prefix + ":") ? s.get(wire.slice(s.prefix.length + 1)) : null),
);

storeContract(
  "redis standalone",
  async () => new RedisStore(redisOptions(await redisUrl(), uniquePrefix("kv"))),
  async (_s, wire) => {
    const raw = new Redis(await redisUrl());
    raws.push(raw);
    return raw.get(wire);
  },
);

test("with Redis down, commands fail fast with StoreUnavailableError, and the same store recovers", async () => {
  const own = await startRedis();
  const store = new RedisStore(redisOptions(own.url, uniquePrefix("down")));
  try {
    await store.set("k", "v");
    await own.stop();
    const err = await store.get("k").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).status).toBe(503);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    const revived = await startRedis({ port: own.port });
    try {
      await eventually("store answers again", async () => {
        try {
          await store.ping();
          return true;
        } catch {
          return false;
        }
      }, 15_000);
      await store.set("k", "again");
      expect(await store.get("k")).toBe("again");
    } finally {
      await revived.stop();
    }
  } finally {
    await store.close();
  }
});

test("an error never carries the Redis password", async () => {
  const store: KeyValueStore = new RedisStore(redisOptions("redis://:sup3rsecret@127.0.0.1:1/0", "x"));
  const err = await store.get("k").catch((e: unknown) => e);
  await store.close();
  expect(err).toBeInstanceOf(StoreUnavailableError);
  expect(String((err as Error).message)).not.toContain("sup3rsecret");
  expect(JSON.stringify(err)).not.toContain("sup3rsecret");
});
