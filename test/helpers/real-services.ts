import { createDatabase, startPostgres, startRedis } from "../harness/services.ts";

let pg: Promise<string> | undefined;
let redis: Promise<string> | undefined;

/**
 * The admin URL of the real Postgres for this run: `TEST_DATABASE_URL` when the runner
 * (or the developer) set it, else a throwaway cluster started for this process.
 */
export function adminDatabaseUrl(): Promise<string> {
  pg ??= process.env["TEST_DATABASE_URL"]
    ? Promise.resolve(process.env["TEST_DATABASE_URL"])
    : startPostgres().then((h) => h.url);
  return pg as Promise<string>;
}

/** A new, empty database on the real Postgres, so test files never see each other's rows. */
export async function freshDatabaseUrl(label: string): Promise<string> {
  const name = `gh_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${crypto.randomUUID().slice(0, 8)}`;
  return createDatabase(await adminDatabaseUrl(), name);
}

/** The real Redis for this run: `TEST_REDIS_URL`, else a throwaway redis-server. */
export function redisUrl(): Promise<string> {
  redis ??= process.env["TEST_REDIS_URL"]
    ? Promise.resolve(process.env["TEST_REDIS_URL"])
    : startRedis().then((h) => h.url);
  return redis as Promise<string>;
}

/** A key prefix no other test uses. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${crypto.randomUUID().slice(0, 8)}`;
}
