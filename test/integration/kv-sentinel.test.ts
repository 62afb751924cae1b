import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { createRedisStore, type RedisStore } from "../../src/kv/redis.ts";
import { startSentinelTopology, type SentinelTopology } from "../harness/services.ts";
import { uniquePrefix } from "../helpers/real-services.ts";
import { storeContract } from "./kv-contract.ts";
import { waitFor } from "../helpers/wait.ts";

let topo: SentinelTopology;

beforeAll(async () => {
  topo = await startSentinelTopology({ downAfterMs: 1000, failoverTimeoutMs: 5000 });
}, 90_000);
afterAll(async () => {
  await topo?.stop();
});

/** Sentinel mode as configured from env: the URL's host is the service name, its port is ignored. */
function sentinelStore(): RedisStore {
  return createRedisStore({
    url: `redis://${topo.masterName}:0/0`,
    sentinelHosts: topo.sentinels.map((s) => `${s.host}:${s.port}`),
    sentinelPort: 26379,
    sentinelMaxRetryCount: 2,
    cluster: false,
    prefix: uniquePrefix("sentinel"),
  });
}

/** A plain client on the data node Sentinel currently names as master. */
async function rawMaster(): Promise<Redis> {
  const s = new Redis({ ...topo.sentinels[0]!, protocol: 2 });
  const [host, port] = (await s.call("SENTINEL", "get-master-addr-by-name", topo.masterName)) as [string, string];
  s.disconnect();
  return new Redis({ host, port: Number(port), protocol: 2 });
}

/** What each sentinel names as master and how it sees the old one, for failure messages. */
async function sentinelViews(): Promise<string> {
  const views = await Promise.all(
    topo.sentinels.map(async (addr) => {
      const s = new Redis({ ...addr, protocol: 2, maxRetriesPerRequest: 1 });
      try {
        const master = (await s.call("SENTINEL", "get-master-addr-by-name", topo.masterName)) as string[];
        const info = (await s.call("SENTINEL", "master", topo.masterName)) as string[];
        const flags = info[info.indexOf("flags") + 1];
        return `${addr.port}: ${master.join(":")} (${flags})`;
      } catch (e) {
        return `${addr.port}: ${String(e)}`;
      } finally {
        s.disconnect();
      }
    }),
  );
  return `${views.join("; ")}; old master ${topo.master.port}, replica ${topo.replica.port}`;
}

storeContract("redis sentinel", async () => sentinelStore(), undefined, async (wire) => {
  const raw = await rawMaster();
  try {
    return await raw.get(wire);
  } finally {
    raw.disconnect();
  }
});

describe("sentinel failover", () => {
  let store: RedisStore;
  afterAll(async () => {
    await store?.close();
  });

  test("the same store (no restart) follows the promoted replica, and pub/sub still delivers", async () => {
    store = sentinelStore();
    expect(store.kind).toBe("sentinel");
    const got: string[] = [];
    await store.subscribe("after", (m) => got.push(m));
    await store.publish("after", "before-failover");
    await waitFor("delivered before failover", () => got.includes("before-failover"));

    await store.set("before", "1");
    // Replication is asynchronous: only a write the replica already has survives the failover.
    const replica = new Redis({ host: "127.0.0.1", port: topo.replica.port, protocol: 2 });
    await waitFor("replica has the write", async () => (await replica.get(store.wireKey("before"))) === "1");
    replica.disconnect();

    topo.master.kill("SIGKILL");
    const t0 = performance.now();
    let attempts = 0;
    let failures = 0;
    let lastError = "";
    await waitFor("a write succeeds against the promoted replica", async () => {
      attempts++;
      try {
        await store.set("during", "2");
        return (await store.get("during")) === "2";
      } catch (e) {
        failures++;
        lastError = String((e as Error).cause ?? e);
        return false;
      }
    }, 30_000).catch(async (e: unknown) => {
      throw new Error(`${String(e)}; client ${store.client.status}, last error ${lastError}; sentinels say ${await sentinelViews()}`);
    });
    const writableMs = performance.now() - t0;
    expect(await store.get("before")).toBe("1");

    // The sentinel that led the failover told the store first; the others learn it moments later.
    let raw = await rawMaster();
    await waitFor("sentinels name the promoted replica", async () => {
      raw.disconnect();
      raw = await rawMaster();
      return raw.options.port === topo.replica.port;
    }, 10_000);
    expect(await raw.get(store.wireKey("during"))).toBe("2");
    raw.disconnect();

    await waitFor("subscription delivers after failover", async () => {
      await store.publish("after", "after-failover").catch(() => 0);
      return got.includes("after-failover");
    }, 20_000);
    const deliveredMs = performance.now() - t0;
    console.log(
      `sentinel failover: writes back after ${writableMs.toFixed(0)} ms (${attempts} attempts, ${failures} failed), ` +
        `pub/sub delivering after ${deliveredMs.toFixed(0)} ms`,
    );
  }, 90_000);
});
