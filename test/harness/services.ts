/**
 * Throwaway real services on loopback for tests: PostgreSQL 15 (initdb as the `postgres`
 * OS user when running as root), redis-server, a Sentinel topology and a Redis Cluster.
 * Every process is tracked and stopped by {@link stopAll}; logs go to files in each temp dir.
 */
import { createServer } from "node:net";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import Redis from "ioredis";

const PG_BIN = "/usr/lib/postgresql/15/bin";

/** A started process. */
export interface ServiceHandle {
  port: number;
  pid: number;
  stop(): Promise<void>;
}
/** A started PostgreSQL cluster. */
export interface PostgresHandle extends ServiceHandle {
  url: string;
  dataDir: string;
}
/** A started redis-server. */
export interface RedisHandle extends ServiceHandle {
  url: string;
  kill(signal?: NodeJS.Signals): void;
}
/** One master, one replica, three sentinels. */
export interface SentinelTopology {
  masterName: string;
  master: RedisHandle;
  replica: RedisHandle;
  sentinels: { host: string; port: number }[];
  sentinelHandles: ServiceHandle[];
  stop(): Promise<void>;
}
/** A Redis Cluster of masters only. */
export interface ClusterHandle {
  nodes: { host: string; port: number }[];
  handles: RedisHandle[];
  stop(): Promise<void>;
}

const started = new Set<ServiceHandle>();
const procs = new Set<ReturnType<typeof Bun.spawn>>();
const dirs = new Set<string>();

process.on("exit", () => {
  for (const p of procs) {
    try {
      p.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

function which(cmd: string): boolean {
  return Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
}

let aptUpdated = false;
async function aptInstall(packages: string[]): Promise<void> {
  if (!isRoot()) throw new Error(`missing ${packages.join(", ")}: install them (apt-get install -y ${packages.join(" ")}) or run the tests as root`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) {
    const u = Bun.spawnSync(["apt-get", "update"], { env });
    if (u.exitCode !== 0) throw new Error(`apt-get update failed: ${u.stderr.toString().slice(-500)}`);
    aptUpdated = true;
  }
  const r = Bun.spawnSync(["apt-get", "install", "-y", ...packages], { env });
  if (r.exitCode !== 0) throw new Error(`apt-get install ${packages.join(" ")} failed: ${r.stderr.toString().slice(-500)}`);
}

/** Installs redis-server, redis-sentinel, redis-tools and PostgreSQL 15 from Debian when missing (root only). */
export async function ensureBinaries(): Promise<void> {
  const redis = ["redis-server", "redis-sentinel", "redis-cli"].filter((c) => !which(c));
  if (redis.length > 0) await aptInstall(["redis-server", "redis-sentinel", "redis-tools"]);
  if (!existsSync(`${PG_BIN}/initdb`)) await aptInstall(["postgresql-15"]);
}

function tempDir(label: string): string {
  const d = mkdtempSync(join(tmpdir(), `gatehouse-${label}-`));
  dirs.add(d);
  return d;
}

function tail(file: string, n = 2000): string {
  try {
    return readFileSync(file, "utf8").slice(-n);
  } catch {
    return "(no log)";
  }
}

function spawnLogged(cmd: string[], logFile: string, cwd?: string): ReturnType<typeof Bun.spawn> {
  const fd = openSync(logFile, "a");
  const proc = Bun.spawn(cmd, { cwd, stdout: fd, stderr: fd, stdin: "ignore" });
  closeSync(fd);
  procs.add(proc);
  void proc.exited.then(() => procs.delete(proc));
  return proc;
}

async function until(what: string, deadlineMs: number, check: () => Promise<boolean>, log?: string): Promise<void> {
  const end = Date.now() + deadlineMs;
  let lastError = "";
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await Bun.sleep(50);
  }
  throw new Error(`${what} not ready within ${deadlineMs} ms${lastError ? ` (${lastError})` : ""}${log ? `\n--- log ---\n${tail(log)}` : ""}`);
}

function ensurePostgresUser(): void {
  if (Bun.spawnSync(["id", "postgres"]).exitCode !== 0) {
    const r = Bun.spawnSync(["useradd", "--system", "--no-create-home", "postgres"]);
    if (r.exitCode !== 0) throw new Error(`could not create the postgres OS user: ${r.stderr.toString()}`);
  }
}

/** initdb + postgres on a free loopback port, fsync off. */
export async function startPostgres(opts: { maxConnections?: number } = {}): Promise<PostgresHandle> {
  await ensureBinaries();
  const dir = tempDir("pg");
  const dataDir = join(dir, "data");
  const log = join(dir, "postgres.log");
  const asPg = (cmd: string[]) => (isRoot() ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd);
  if (isRoot()) {
    ensurePostgresUser();
    chmodSync(dir, 0o777);
    Bun.spawnSync(["chown", "-R", "postgres", dir]);
  }
  const init = Bun.spawnSync(asPg([`${PG_BIN}/initdb`, "-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]));
  if (init.exitCode !== 0) throw new Error(`initdb failed: ${init.stderr.toString().slice(-1500)}`);
  const port = await freePort();
  const proc = spawnLogged(
    asPg([
      `${PG_BIN}/postgres`, "-D", dataDir, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
      "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
      "-c", `max_connections=${opts.maxConnections ?? 200}`, "-c", "shared_buffers=64MB",
    ]),
    log,
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await until("postgres", 30_000, async () => {
    if (proc.exitCode !== null) throw new Error(`postgres exited with ${proc.exitCode}`);
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
      return true;
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, log);
  const handle: PostgresHandle = {
    url, port, dataDir, pid: proc.pid,
    async stop() {
      started.delete(handle);
      proc.kill("SIGQUIT");
      await Promise.race([proc.exited, Bun.sleep(5000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(handle);
  return handle;
}

/** CREATE DATABASE `name` on the server behind `adminUrl`; returns the new database's URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database ${name}`);
  } finally {
    await sql.end({ timeout: 2 });
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function ping(port: number): Promise<boolean> {
  const c = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  c.on("error", () => {});
  try {
    await c.connect();
    return (await c.ping()) === "PONG";
  } finally {
    c.disconnect();
  }
}

function redisHandle(port: number, proc: ReturnType<typeof Bun.spawn>, dir: string): RedisHandle {
  const handle: RedisHandle = {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: proc.pid,
    kill: (signal = "SIGKILL") => proc.kill(signal),
    async stop() {
      started.delete(handle);
      if (proc.exitCode === null) proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(5000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(handle);
  return handle;
}

/** redis-server on a free (or given) loopback port, no persistence. */
export async function startRedis(opts: { args?: string[]; port?: number } = {}): Promise<RedisHandle> {
  await ensureBinaries();
  const dir = tempDir("redis");
  const port = opts.port ?? (await freePort());
  const log = join(dir, "redis.log");
  const proc = spawnLogged(
    ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
      "--protected-mode", "no", "--dir", dir, ...(opts.args ?? [])],
    log,
  );
  await until(`redis-server :${port}`, 15_000, async () => {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    return ping(port);
  }, log);
  return redisHandle(port, proc, dir);
}

/** Master + replica + three sentinels (quorum 2), fast failover settings. */
export async function startSentinelTopology(opts: { masterName?: string; downAfterMs?: number; failoverTimeoutMs?: number } = {}): Promise<SentinelTopology> {
  const masterName = opts.masterName ?? "mymaster";
  const master = await startRedis();
  const replica = await startRedis({ args: ["--replicaof", "127.0.0.1", String(master.port)] });
  const sentinelHandles: ServiceHandle[] = [];
  const sentinels: { host: string; port: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = tempDir("sentinel");
    const port = await freePort();
    const conf = join(dir, "sentinel.conf");
    writeFileSync(conf, [
      `port ${port}`, "bind 127.0.0.1", "protected-mode no", `dir ${dir}`,
      `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
      `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${masterName} ${opts.failoverTimeoutMs ?? 5000}`,
      `sentinel parallel-syncs ${masterName} 1`,
      "sentinel resolve-hostnames no", "",
    ].join("\n"));
    const proc = spawnLogged(["redis-sentinel", conf], join(dir, "sentinel.log"));
    await until(`redis-sentinel :${port}`, 15_000, () => ping(port), join(dir, "sentinel.log"));
    sentinelHandles.push(redisHandle(port, proc, dir));
    sentinels.push({ host: "127.0.0.1", port });
  }
  const ask = async (port: number, ...args: string[]) => {
    const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 1, protocol: 2 });
    c.on("error", () => {});
    try {
      return await c.call(...(args as [string, ...string[]]));
    } finally {
      c.disconnect();
    }
  };
  await until("replica link", 20_000, async () => String(await ask(replica.port, "INFO", "replication")).includes("master_link_status:up"));
  for (const s of sentinels) {
    await until(`sentinel ${s.port} sees the replica`, 20_000, async () => {
      const addr = (await ask(s.port, "SENTINEL", "get-master-addr-by-name", masterName)) as string[] | null;
      if (!addr || addr[1] !== String(master.port)) return false;
      const info = (await ask(s.port, "SENTINEL", "master", masterName)) as string[];
      const i = info.indexOf("num-slaves");
      return i >= 0 && Number(info[i + 1]) >= 1;
    });
  }
  return {
    masterName, master, replica, sentinels, sentinelHandles,
    async stop() {
      await Promise.all([...sentinelHandles, master, replica].map((h) => h.stop()));
    },
  };
}

/** A Redis Cluster of `masters` (default 3) masters and no replicas. */
export async function startRedisCluster(opts: { masters?: number } = {}): Promise<ClusterHandle> {
  const n = opts.masters ?? 3;
  const handles: RedisHandle[] = [];
  for (let i = 0; i < n; i++) {
    handles.push(await startRedis({ args: ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${i}.conf`, "--cluster-node-timeout", "2000"] }));
  }
  const nodes = handles.map((h) => ({ host: "127.0.0.1", port: h.port }));
  const create = Bun.spawnSync(["redis-cli", "--cluster", "create", ...nodes.map((x) => `${x.host}:${x.port}`), "--cluster-yes"]);
  if (create.exitCode !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout.toString().slice(-1500)}${create.stderr.toString().slice(-500)}`);
  for (const node of nodes) {
    await until(`cluster node ${node.port}`, 30_000, async () => {
      const c = new Redis({ port: node.port, host: node.host, maxRetriesPerRequest: 1, protocol: 2 });
      c.on("error", () => {});
      try {
        return String(await c.call("CLUSTER", "INFO")).includes("cluster_state:ok");
      } finally {
        c.disconnect();
      }
    });
  }
  return { nodes, handles, async stop() { await Promise.all(handles.map((h) => h.stop())); } };
}

/** Stops everything this module started and removes the temp dirs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((h) => h.stop().catch(() => {})));
  for (const p of procs) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}
