import { afterAll, beforeAll, expect, test } from "bun:test";
import Redis from "ioredis";
import { RedisStore } from "../../src/kv/redis.ts";
import { startSentinelTopology, type SentinelTopology } from "../harness/services.ts";
import { uniquePrefix } from "../helpers/real-services.ts";
import { eventually } from "./kv-contract.ts";

let topo: SentinelTopology;
let store: RedisStore;

beforeAll(async () => {
  topo = await startSentinelTopology({ downAfterMs: 1000, failoverTimeoutMs: 5000 });
  store = new RedisStore({
    url: `redis://${topo.masterName}:6379/0`,
    sentinelHosts: topo.sentinels.map((s) => `${s.host}:${s.port}`),
    sentinelPort: 26379,
    sentinelMaxRetryCount: 2,
    cluster: false,
    prefix: uniquePrefix("sentinel"),
  });
});
afterAll(async () => {
  await store?.close();
  await topo?.stop();
});

test("Sentinel mode: the service name comes from REDIS_URL's host; get/set/pub-sub work", async () => {
  expect(store.kind).toBe("sentinel");
  await store.set("k", "v1");
  expect(await store.get("k")).toBe("v1");
  const got: string[] = [];
  await store.subscribe("ch", (m) => got.push(m));
  await store.publish("ch", "hello");
  await eventually("message delivered", () => got.includes("hello"));
});

test("a failover: the same store (no restart) follows the new master, and pub/sub still delivers", async () => {
  const got: string[] = [];
  await store.subscribe("after", (m) => got.push(m));
  await store.set("before", "1");
  // Replication is asynchronous: only a write the replica already has survives the failover.
  const replica = new Redis({ host: "127.0.0.1", port: topo.replica.port, protocol: 2 });
  await eventually("replica has the write", async () => (await replica.get(store.wireKey("before"))) === "1");
  replica.disconnect();
  topo.master.kill("SIGKILL");

  let written = false;
  await eventually("writes succeed against the promoted replica", async () => {
    try {
      await store.set("during", "2");
      written = true;
      return true;
    } catch {
      return false;
    }
  }, 45_000);
  expect(written).toBe(true);
  expect(await store.get("during")).toBe("2");
  // The replica had the pre-failover write.
  expect(await store.get("before")).toBe("1");

  await eventually("subscription delivers after failover", async () => {
    await store.publish("after", "ping").catch(() => 0);
    return got.includes("ping");
  }, 20_000);
});
