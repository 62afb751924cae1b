/** Throwaway redis-server processes on loopback. */
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
import { FatalStartupError, HOST, hasExited, makeTempDir, removeDir, running, spawnLogged, tail, waitFor, withLog } from "./processes.ts";
import type { RedisHandle } from "./handles.ts";

export interface RedisLaunch {
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

export async function launchRedis(spec: RedisLaunch): Promise<RedisHandle> {
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

export function redisServerArgs(port: number, dir: string): string[] {
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
