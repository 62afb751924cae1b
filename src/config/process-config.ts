import { ConfigError } from "./errors.ts";
import { int, raw, type Env } from "./readers.ts";

/** `GATEHOUSE_PROCESSES` and the index the supervisor gives each child. */
export interface ProcessConfig {
  /** Server processes on the port (1: no supervisor, this process serves). */
  readonly count: number;
  /** This process's index (0-based) when started by the supervisor; null otherwise. */
  readonly index: number | null;
}

/**
 * `GATEHOUSE_PROCESSES`: a number (1–256) or `auto` (one per core), default 1. Several processes
 * are separate instances sharing the port (reusePort), so they need the shared state separate
 * instances need: Postgres (`DATABASE_URL`, not the embedded PGlite in one process's data dir)
 * and Redis (`REDIS_URL`, not the in-memory store) — else a ConfigError naming the variables.
 * `GATEHOUSE_PROCESS_INDEX` is set by the supervisor for its children only.
 */
export function processConfig(env: Env, shared: { databaseUrl: string | null; redisUrl: string | null }): ProcessConfig {
  const text = raw(env, "GATEHOUSE_PROCESSES")?.trim().toLowerCase();
  const count = text === "auto" ? cores() : int(env, "GATEHOUSE_PROCESSES", 1, 1, 256);
  const index = raw(env, "GATEHOUSE_PROCESS_INDEX") === undefined ? null : int(env, "GATEHOUSE_PROCESS_INDEX", 0, 0, 255);
  if (count > 1) {
    const missing = [shared.databaseUrl === null ? "DATABASE_URL" : null, shared.redisUrl === null ? "REDIS_URL" : null].filter((v) => v !== null);
    if (missing.length > 0) {
      throw new ConfigError(
        "GATEHOUSE_PROCESSES",
        `1 unless ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} set: several processes share state through Postgres and Redis, as separate instances do`,
      );
    }
  }
  return { count, index };
}

function cores(): number {
  const n = globalThis.navigator?.hardwareConcurrency;
  return typeof n === "number" && n >= 1 ? Math.min(256, Math.floor(n)) : 1;
}
