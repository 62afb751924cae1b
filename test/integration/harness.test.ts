import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import Redis, { Cluster } from "ioredis";
import postgres from "postgres";
import {
  createDatabase,
  ensureBinaries,
  freePort,
  startPostgres,
  startRedis,
  startRedisCluster,
  startSentinelTopology,
  stopAll,
} from "../harness/services.ts";

afterAll(async () => {
  await stopAll();
});

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await Bun.sleep(100);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ""}`);
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return /^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return true;
  }
}

test("ensureBinaries and freePort", async () => {
  await ensureBinaries();
  const a = await freePort();
  expect(a).toBeGreaterThan(0);
  expect(a).toBeLessThan(65536);
});

test("Postgres: select version(), createDatabase, stop removes the process and the data dir", async () => {
  const pg = await startPostgres({ maxConnections: 50 });
  expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ version: string }[]>`select version()`;
    expect(row?.version).toContain("PostgreSQL 15");
    const [conf] = await sql<{ max_connections: string }[]>`show max_connections`;
    expect(conf?.max_connections).toBe("50");
  } finally {
    await sql.end();
  }

  const url = await createDatabase(pg.url, "harness_db");
  expect(url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/harness_db`);
  const db = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await db<{ db: string }[]>`select current_database() as db`;
    expect(row?.db).toBe("harness_db");
  } finally {
    await db.end();
  }

  expect(existsSync(pg.dataDir)).toBe(true);
  await pg.stop();
  expect(existsSync(pg.dataDir)).toBe(false);
  expect(gone(pg.pid)).toBe(true);
});

test("Redis: SET/GET via ioredis, stop ends the process", async () => {
  const r = await startRedis();
  expect(r.url).toBe(`redis://127.0.0.1:${r.port}`);
  const client = new Redis(r.url);
  try {
    await client.set("harness:k", "v");
    expect(await client.get("harness:k")).toBe("v");
  } finally {
    client.disconnect();
  }
  await r.stop();
  expect(gone(r.pid)).toBe(true);
});

test("Sentinel: ioredis finds the master; a SIGKILLed master is replaced by the replica", async () => {
  const t0 = Date.now();
  const topo = await startSentinelTopology({ downAfterMs: 1000, failoverTimeoutMs: 5000 });
  console.log(`sentinel topology ready in ${Date.now() - t0} ms`);
  expect(topo.masterName).toBe("mymaster");
  expect(topo.sentinels).toHaveLength(3);

  const client = new Redis({ sentinels: topo.sentinels, name: topo.masterName });
  client.on("error", () => {});
  const direct = new Redis({ port: topo.master.port, host: "127.0.0.1" });
  const sentinel = new Redis({ port: topo.sentinels[0]!.port, host: "127.0.0.1" });
  try {
    await client.set("harness:s", "1");
    // The write went to the master the sentinels advertise.
    expect(await direct.get("harness:s")).toBe("1");
    expect(await sentinel.call("SENTINEL", "get-master-addr-by-name", topo.masterName)).toEqual(["127.0.0.1", String(topo.master.port)]);
    direct.disconnect();

    const killedAt = Date.now();
    topo.master.kill("SIGKILL");
    await eventually("sentinels promote the replica", 20_000, async () => {
      const addr = (await sentinel.call("SENTINEL", "get-master-addr-by-name", topo.masterName)) as string[];
      return addr[1] === String(topo.replica.port) ? addr : undefined;
    });
    console.log(`sentinel failover: replica promoted ${Date.now() - killedAt} ms after SIGKILL`);

    // The same client follows the failover.
    await eventually("writes through Sentinel after failover", 20_000, async () => {
      await client.set("harness:s2", "2");
      return true;
    });
    const promoted = new Redis({ port: topo.replica.port, host: "127.0.0.1" });
    try {
      expect(await promoted.get("harness:s2")).toBe("2");
      expect(String(await promoted.info("replication"))).toContain("role:master");
    } finally {
      promoted.disconnect();
    }
  } finally {
    client.disconnect();
    sentinel.disconnect();
    direct.disconnect();
    await topo.stop();
  }
  for (const h of [topo.master, topo.replica, ...topo.sentinelHandles]) expect(gone(h.pid)).toBe(true);
}, 90_000);

test("Cluster: 3 masters, 100 keys spread across slots and nodes", async () => {
  const t0 = Date.now();
  const cluster = await startRedisCluster();
  console.log(`redis cluster ready in ${Date.now() - t0} ms`);
  expect(cluster.nodes).toHaveLength(3);
  const client = new Cluster(cluster.nodes);
  client.on("error", () => {});
  try {
    const keys = Array.from({ length: 100 }, (_, i) => `harness:key:${i}`);
    await Promise.all(keys.map((k, i) => client.set(k, String(i))));
    expect(await Promise.all(keys.map((k) => client.get(k)))).toEqual(keys.map((_, i) => String(i)));

    let total = 0;
    for (const node of cluster.nodes) {
      const direct = new Redis({ port: node.port, host: node.host });
      try {
        const n = await direct.dbsize();
        expect(n).toBeGreaterThan(0);
        total += n;
      } finally {
        direct.disconnect();
      }
    }
    expect(total).toBe(100);
  } finally {
    client.disconnect();
    await cluster.stop();
  }
  for (const h of cluster.handles) expect(gone(h.pid)).toBe(true);
}, 90_000);

test("stopAll stops what is still running", async () => {
  const a = await startRedis();
  const pg = await startPostgres();
  await stopAll();
  expect(gone(a.pid)).toBe(true);
  expect(gone(pg.pid)).toBe(true);
  expect(existsSync(pg.dataDir)).toBe(false);
});
