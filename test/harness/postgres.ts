/** A throwaway PostgreSQL 15 cluster (run as the `postgres` OS user when this process is root). */
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
import { FatalStartupError, HOST, hasExited, isAlive, makeTempDir, removeDir, running, spawnLogged, tail, track, untrack, waitFor, waitForPidExit, withLog } from "./processes.ts";
import type { PostgresHandle } from "./handles.ts";

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
    let options = "";
    // freePort() can race with another process; postgres then fails to bind and we retry.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      options = [
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
    let tracked = track(pid, "QUIT");

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
      async pause() {
        // Immediate mode: clients see their connections cut, as in a crash or a failover.
        await pgCtlStop(dir, dataDir);
        untrack(tracked);
      },
      async resume() {
        const start = await runCommand(
          asPostgresUser([`${PG_BIN}/pg_ctl`, "start", "-D", dataDir, "-l", logFile, "-w", "-t", "30", "-o", options]),
          { timeoutMs: 45_000, cwd: dir },
        );
        if (start.code !== 0) throw new Error(withLog(`postgres did not restart on ${HOST}:${port} (pg_ctl exit ${start.code})`, logFile));
        const again = readPostmasterPid(dataDir);
        if (again !== undefined) {
          handle.pid = again;
          tracked = track(again, "QUIT");
        }
      },
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
