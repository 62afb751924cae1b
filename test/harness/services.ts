/**
 * Throwaway real services on loopback for tests: PostgreSQL 15 (run as the `postgres` OS
 * user when this process is root), redis-server, a Sentinel topology and a Redis Cluster.
 *
 * Each service gets its own temp dir holding its data and its log file (child output never
 * reaches the test output); startup errors quote the log's tail. Every process is tracked:
 * {@link stopAll} stops whatever is still running, and on process exit any survivor is
 * killed as a last resort. Every wait has a deadline.
 */
import type { Subprocess } from "bun";
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { ensureBinaries, isRoot, PG_BIN } from "./apt.ts";
import { runCommand } from "./exec.ts";
import { freeClusterPort, freePort } from "./ports.ts";
import { guardDir, guardPid, releaseDir, releasePid } from "./reaper.ts";
import { pairs, redisCommand } from "./resp.ts";

export { ensureBinaries } from "./apt.ts";
export { freePort } from "./ports.ts";

/** A running service process started by this module. */
export interface ServiceHandle {
  /** The TCP port it listens on (127.0.0.1). */
  port: number;
  /** Its process id (for Postgres, the postmaster's). */
  pid: number;
  /** Stops the process, waits for it to exit and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** A throwaway PostgreSQL 15 cluster. */
export interface PostgresHandle extends ServiceHandle {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth, superuser). */
  url: string;
  /** The cluster's data directory (inside the temp dir removed by `stop`). */
  dataDir: string;
}

/** A throwaway redis-server (or redis-sentinel). */
export interface RedisHandle extends ServiceHandle {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Sends `signal` (default SIGKILL) without waiting, e.g. to make Sentinel fail over. */
  kill(signal?: NodeJS.Signals): void;
}

/** One master, one replica and three sentinels (quorum 2), all on 127.0.0.1. */
export interface SentinelTopology {
  /** The monitored master's name, as clients pass it to Sentinel. */
  masterName: string;
  master: RedisHandle;
  replica: RedisHandle;
  /** Sentinel addresses, in the shape ioredis's `sentinels` option takes. */
  sentinels: { host: string; port: number }[];
  sentinelHandles: ServiceHandle[];
  /** Stops the sentinels, the master and the replica. */
  stop(): Promise<void>;
}

/** A Redis Cluster of masters only (no replicas). */
export interface ClusterHandle {
  /** Node addresses, in the shape `new Redis.Cluster(nodes)` takes. */
  nodes: { host: string; port: number }[];
  handles: RedisHandle[];
  /** Stops every node. */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";

interface Tracked {
  pid: number;
  /** The last-resort signal when this process ends first. */
  signal: "KILL" | "QUIT";
}

/** Processes still running. */
const live = new Set<Tracked>();
/** Handles started and not yet stopped. */
const running = new Set<ServiceHandle>();
/** Temp dirs not yet removed. */
const tempDirs = new Set<string>();

function track(pid: number, signal: Tracked["signal"]): Tracked {
  const t: Tracked = { pid, signal };
  live.add(t);
  guardPid(pid, signal);
  return t;
}

function untrack(t: Tracked): void {
  live.delete(t);
  releasePid(t.pid);
}

function killTracked(t: Tracked): void {
  try {
    process.kill(t.pid, `SIG${t.signal}`);
  } catch {
    // Already gone.
  }
}

// The watchdog in reaper.ts covers `bun test` (which exits without this event) and crashes;
// this handler covers plain scripts such as test/run.ts without waiting for it.
process.on("exit", () => {
  for (const t of live) killTracked(t);
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      // A process may still be writing into it; nothing more can be done while exiting.
    }
  }
});

class FatalStartupError extends Error {}

function makeTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-${label}-`));
  tempDirs.add(dir);
  guardDir(dir);
  return dir;
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
  releaseDir(dir);
}

function tail(file: string, chars = 3000): string {
  try {
    const text = readFileSync(file, "utf8");
    return text.length > chars ? `…${text.slice(-chars)}` : text || "(empty)";
  } catch {
    return "(no log file)";
  }
}

function withLog(message: string, logFile: string): string {
  return `${message}\n--- ${logFile} (tail) ---\n${tail(logFile)}`;
}

/**
 * Polls `check` every 50 ms until it returns true, for at most `timeoutMs`. A
 * {@link FatalStartupError} from `check` aborts at once; other errors count as "not yet"
 * and the last one is quoted in the timeout error.
 */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      if (await check()) return;
      last = "";
    } catch (e) {
      if (e instanceof FatalStartupError) throw e;
      last = (e as Error).message;
    }
    if (Date.now() >= deadline) break;
    await Bun.sleep(50);
  }
  const message = `${what}: not ready within ${timeoutMs} ms${last ? ` (last error: ${last})` : ""}`;
  throw new Error(logFile ? withLog(message, logFile) : message);
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // A zombie counts as gone: the postmaster is not our child, and PID 1 may never reap it.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await Bun.sleep(25);
  }
  return true;
}

function spawnLogged(cmd: string[], logFile: string, cwd: string): Subprocess {
  const fd = openSync(logFile, "a");
  try {
    const proc = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: fd, stderr: fd });
    const tracked = track(proc.pid, "KILL");
    void proc.exited.then(() => untrack(tracked));
    return proc;
  } finally {
    closeSync(fd);
  }
}

function hasExited(proc: Subprocess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

// ---------------------------------------------------------------- PostgreSQL

function postgresOwner(): { uid: number; gid: number } {
  const id = (flag: string) => Bun.spawnSync(["id", flag, "postgres"], { stdout: "pipe", stderr: "pipe" });
  if (id("-u").exitCode !== 0) {
    const add = Bun.spawnSync(["useradd", "--system", "postgres"], { stdout: "pipe", stderr: "pipe" });
    if (add.exitCode !== 0) throw new Error(`useradd --system postgres failed: ${add.stderr.toString().trim()}`);
  }
  const uid = Number(id("-u").stdout.toString().trim());
  const gid = Number(id("-g").stdout.toString().trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error("could not resolve the postgres OS user's uid/gid");
  return { uid, gid };
}

/** PostgreSQL refuses to run as root, so as root its tools run as the `postgres` OS user. */
function asPostgresUser(cmd: string[]): string[] {
  return isRoot() ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
}

function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function pgCtlStop(dir: string, dataDir: string): Promise<void> {
  const pid = readPostmasterPid(dataDir);
  await runCommand(asPostgresUser([`${PG_BIN}/pg_ctl`, "stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "10"]), {
    timeoutMs: 15_000,
    cwd: dir,
  });
  if (pid !== undefined && !(await waitForPidExit(pid, 5_000))) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Exited in between.
    }
    await waitForPidExit(pid, 5_000);
  }
}

/**
 * Creates a PostgreSQL 15 cluster in a fresh temp dir (`initdb -A trust -U postgres`,
 * fsync and synchronous commit off) and starts it on a free 127.0.0.1 port with its unix
 * socket inside the temp dir. Resolves once `select 1` succeeds over TCP.
 * @param opts.maxConnections `max_connections` (default 200).
 */
export async function startPostgres(opts: { maxConnections?: number } = {}): Promise<PostgresHandle> {
  await ensureBinaries();
  const dir = makeTempDir("pg");
  const dataDir = join(dir, "data");
  const logFile = join(dir, "postgres.log");
  try {
    if (isRoot()) {
      const { uid, gid } = postgresOwner();
      chownSync(dir, uid, gid);
    }
    const init = await runCommand(
      asPostgresUser([`${PG_BIN}/initdb`, "-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]),
      { timeoutMs: 120_000, cwd: dir },
    );
    if (init.code !== 0) throw new Error(`initdb failed (exit ${init.code}${init.timedOut ? ", timed out" : ""}):\n${init.out.slice(-3000)}`);

    let port = 0;
    // freePort() can race with another process; postgres then fails to bind and we retry.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = [
        `-p ${port}`,
        `-k '${dir}'`,
        "-c listen_addresses=127.0.0.1",
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
        `-c max_connections=${opts.maxConnections ?? 200}`,
      ].join(" ");
      const start = await runCommand(
        asPostgresUser([`${PG_BIN}/pg_ctl`, "start", "-D", dataDir, "-l", logFile, "-w", "-t", "30", "-o", options]),
        { timeoutMs: 45_000, cwd: dir },
      );
      if (start.code === 0) break;
      await pgCtlStop(dir, dataDir);
      if (attempt < 3 && /could not bind|address already in use/i.test(tail(logFile, 1000))) continue;
      throw new Error(withLog(`postgres did not start on ${HOST}:${port} (pg_ctl exit ${start.code}):\n${start.out.trim()}`, logFile));
    }

    const pid = readPostmasterPid(dataDir);
    if (pid === undefined) {
      await pgCtlStop(dir, dataDir);
      throw new Error(withLog(`postgres started but ${dataDir}/postmaster.pid is unreadable`, logFile));
    }
    // SIGQUIT is Postgres's immediate shutdown: the postmaster also ends its backends, which a SIGKILL would orphan.
    const tracked = track(pid, "QUIT");

    const url = `postgres://postgres@${HOST}:${port}/postgres`;
    try {
      await waitFor(`postgres on ${HOST}:${port}`, 15_000, async () => {
        if (!isAlive(pid)) throw new FatalStartupError(withLog(`postgres (pid ${pid}) exited during startup`, logFile));
        const sql = postgres(url, { max: 1, connect_timeout: 2, idle_timeout: 1, onnotice: () => {} });
        try {
          await sql`select 1`;
          return true;
        } finally {
          await sql.end({ timeout: 1 });
        }
      }, logFile);
    } catch (e) {
      await pgCtlStop(dir, dataDir);
      untrack(tracked);
      throw e;
    }

    let stopping: Promise<void> | undefined;
    const handle: PostgresHandle = {
      url,
      port,
      pid,
      dataDir,
      stop() {
        stopping ??= (async () => {
          running.delete(handle);
          await pgCtlStop(dir, dataDir);
          untrack(tracked);
          removeDir(dir);
        })();
        return stopping;
      },
    };
    running.add(handle);
    return handle;
  } catch (e) {
    try {
      removeDir(dir);
    } catch {
      // Keep the original error.
    }
    throw e;
  }
}

/**
 * Runs `CREATE DATABASE name` on the server behind `adminUrl` (a superuser URL such as
 * {@link PostgresHandle.url}) and returns `adminUrl` with its path pointed at the new database.
 */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    await sql`create database ${sql(name)}`;
  } finally {
    await sql.end({ timeout: 2 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

// ---------------------------------------------------------------- Redis

interface RedisLaunch {
  /** Log-file and temp-dir label. */
  label: string;
  /** A fixed port; otherwise a free one is picked (and re-picked if another process takes it first). */
  port?: number;
  pickPort?: () => Promise<number>;
  /** The command line for `port`, given the temp dir. */
  command(port: number, dir: string): string[];
}

function redisHandle(port: number, proc: Subprocess, dir: string): RedisHandle {
  let stopping: Promise<void> | undefined;
  const handle: RedisHandle = {
    url: `redis://${HOST}:${port}`,
    port,
    pid: proc.pid,
    kill(signal: NodeJS.Signals = "SIGKILL") {
      if (!hasExited(proc)) proc.kill(signal);
    },
    stop() {
      stopping ??= (async () => {
        running.delete(handle);
        // With `--save ""` a SIGTERM shutdown writes nothing to disk.
        if (!hasExited(proc)) proc.kill("SIGTERM");
        const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
        if (!exited) {
          proc.kill("SIGKILL");
          await Promise.race([proc.exited, Bun.sleep(5_000)]);
        }
        removeDir(dir);
      })();
      return stopping;
    },
  };
  running.add(handle);
  return handle;
}

async function launchRedis(spec: RedisLaunch): Promise<RedisHandle> {
  await ensureBinaries();
  const dir = makeTempDir(spec.label);
  try {
    for (let attempt = 1; ; attempt++) {
      const port = spec.port ?? (await (spec.pickPort ?? freePort)());
      const logFile = join(dir, `${spec.label}-${port}.log`);
      const proc = spawnLogged(spec.command(port, dir), logFile, dir);
      try {
        await waitFor(`${spec.label} on ${HOST}:${port}`, 15_000, async () => {
          if (hasExited(proc)) {
            throw new FatalStartupError(withLog(`${spec.label} on ${HOST}:${port} exited during startup (code ${proc.exitCode}, signal ${proc.signalCode})`, logFile));
          }
          return (await redisCommand(port, ["PING"], 1000)) === "PONG";
        }, logFile);
        return redisHandle(port, proc, dir);
      } catch (e) {
        proc.kill("SIGKILL");
        await Promise.race([proc.exited, Bun.sleep(5_000)]);
        const portTaken = /address already in use/i.test(tail(logFile, 2000));
        if (spec.port === undefined && portTaken && attempt < 3) continue;
        throw e;
      }
    }
  } catch (e) {
    removeDir(dir);
    throw e;
  }
}

function redisServerArgs(port: number, dir: string): string[] {
  return [
    "redis-server",
    "--port", String(port),
    "--bind", HOST,
    "--save", "",
    "--appendonly", "no",
    "--daemonize", "no",
    "--protected-mode", "no",
    "--dir", dir,
    // Redis 7 otherwise holds a new replica's full sync for 5 s, waiting for more replicas to batch.
    "--repl-diskless-sync-delay", "0",
  ];
}

/**
 * Starts `redis-server` on 127.0.0.1 without persistence, in its own temp dir, and resolves
 * once it answers PING.
 * @param opts.args extra command-line arguments, e.g. `["--replicaof", "127.0.0.1", "6379"]`.
 * @param opts.port a fixed port (e.g. to restart a killed server in place); default: a free one.
 */
export function startRedis(opts: { args?: string[]; port?: number } = {}): Promise<RedisHandle> {
  return launchRedis({
    label: "redis",
    port: opts.port,
    command: (port, dir) => [...redisServerArgs(port, dir), ...(opts.args ?? [])],
  });
}

async function stopQuietly(handles: ServiceHandle[]): Promise<void> {
  await Promise.allSettled(handles.map((h) => h.stop()));
}

/** Like Promise.all, but waits for every launch and stops the ones that did start if any failed. */
async function allOrStop<T extends ServiceHandle>(launches: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(launches);
  const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stopQuietly(ok);
    throw failed.reason;
  }
  return ok;
}

/**
 * Starts a master, a replica of it and three `redis-sentinel`s monitoring it with quorum 2.
 * Resolves once the replica's link is up and every sentinel reports the master, knows the
 * replica and has discovered the two other sentinels (a failover needs a majority vote).
 * @param opts.masterName default `"mymaster"`.
 * @param opts.downAfterMs `sentinel down-after-milliseconds` (default 1000).
 * @param opts.failoverTimeoutMs `sentinel failover-timeout` (default 5000).
 */
export async function startSentinelTopology(
  opts: { masterName?: string; downAfterMs?: number; failoverTimeoutMs?: number } = {},
): Promise<SentinelTopology> {
  const masterName = opts.masterName ?? "mymaster";
  const started: ServiceHandle[] = [];
  try {
    const master = await startRedis();
    started.push(master);
    const replica = await startRedis({ args: ["--replicaof", HOST, String(master.port)] });
    started.push(replica);
    await waitFor(`replica ${HOST}:${replica.port} link to master ${master.port}`, 20_000, async () =>
      String(await redisCommand(replica.port, ["INFO", "replication"])).includes("master_link_status:up"),
    );

    const sentinelHandles = await allOrStop(
      [0, 1, 2].map(() =>
        launchRedis({
          label: "sentinel",
          command(port, dir) {
            const conf = join(dir, "sentinel.conf");
            writeFileSync(conf, [
              `port ${port}`,
              `bind ${HOST}`,
              "protected-mode no",
              "daemonize no",
              `dir ${dir}`,
              "sentinel resolve-hostnames no",
              `sentinel monitor ${masterName} ${HOST} ${master.port} 2`,
              `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs ?? 1000}`,
              `sentinel failover-timeout ${masterName} ${opts.failoverTimeoutMs ?? 5000}`,
              `sentinel parallel-syncs ${masterName} 1`,
              "",
            ].join("\n"));
            return ["redis-sentinel", conf];
          },
        }),
      ),
    );
    started.push(...sentinelHandles);

    for (const s of sentinelHandles) {
      await waitFor(`sentinel ${HOST}:${s.port} watching ${masterName}`, 30_000, async () => {
        const addr = await redisCommand(s.port, ["SENTINEL", "get-master-addr-by-name", masterName]);
        if (!Array.isArray(addr) || addr[0] !== HOST || addr[1] !== String(master.port)) return false;
        const state = pairs(await redisCommand(s.port, ["SENTINEL", "master", masterName]));
        return state["flags"] === "master" && Number(state["num-slaves"]) >= 1 && Number(state["num-other-sentinels"]) >= 2;
      });
    }

    const topology: SentinelTopology = {
      masterName,
      master,
      replica,
      sentinels: sentinelHandles.map((s) => ({ host: HOST, port: s.port })),
      sentinelHandles,
      async stop() {
        // Sentinels first, so they do not react to the data nodes going away.
        await stopQuietly(sentinelHandles);
        await stopQuietly([master, replica]);
      },
    };
    return topology;
  } catch (e) {
    await stopQuietly(started);
    throw e;
  }
}

/**
 * Starts `masters` (default 3, minimum 3) cluster-enabled redis-servers, joins them with
 * `redis-cli --cluster create … --cluster-yes` (no replicas) and resolves once every node
 * reports `cluster_state:ok` and knows all the others.
 */
export async function startRedisCluster(opts: { masters?: number } = {}): Promise<ClusterHandle> {
  const masters = opts.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 3) throw new Error(`a Redis Cluster needs at least 3 masters (got ${masters})`);
  const handles: RedisHandle[] = [];
  try {
    handles.push(
      ...(await allOrStop(
        Array.from({ length: masters }, () =>
          launchRedis({
            label: "cluster-node",
            pickPort: freeClusterPort,
            command: (port, dir) => [
              ...redisServerArgs(port, dir),
              "--cluster-enabled", "yes",
              "--cluster-config-file", "nodes.conf",
              "--cluster-node-timeout", "2000",
            ],
          }),
        ),
      )),
    );
    const nodes = handles.map((h) => ({ host: HOST, port: h.port }));
    const create = await runCommand(
      ["redis-cli", "--cluster", "create", ...nodes.map((n) => `${n.host}:${n.port}`), "--cluster-replicas", "0", "--cluster-yes"],
      { timeoutMs: 60_000 },
    );
    if (create.code !== 0) {
      throw new Error(`redis-cli --cluster create failed (exit ${create.code}${create.timedOut ? ", timed out" : ""}):\n${create.out.slice(-3000)}`);
    }
    for (const node of nodes) {
      await waitFor(`cluster node ${HOST}:${node.port}`, 30_000, async () => {
        const info = String(await redisCommand(node.port, ["CLUSTER", "INFO"]));
        return info.includes("cluster_state:ok") && info.includes(`cluster_known_nodes:${masters}\r\n`);
      });
    }
    return {
      nodes,
      handles,
      async stop() {
        await stopQuietly(handles);
      },
    };
  } catch (e) {
    await stopQuietly(handles);
    throw e;
  }
}

/**
 * Stops everything this module started that is still running, SIGKILLs any process left
 * over from a failed startup, and removes all temp dirs. Safe to call more than once.
 */
export async function stopAll(): Promise<void> {
  await stopQuietly([...running]);
  for (const t of [...live]) {
    killTracked(t);
    untrack(t);
  }
  for (const d of [...tempDirs]) {
    try {
      removeDir(d);
    } catch {
      // Best effort; the OS temp dir is cleaned eventually.
    }
  }
}
