import assert from "node:assert/strict";
import postgres from "postgres";

declare const Deno: { env: { get(name: string): string | undefined } };

/** A new, empty database on the run's PostgreSQL (`TEST_DATABASE_URL`, set by `npm test`). */
export async function freshDatabase(label: string): Promise<string> {
  const admin = Deno.env.get("TEST_DATABASE_URL");
  assert.ok(admin, "TEST_DATABASE_URL must be set (npm test sets it)");
  const name = `gh_deno_${label}_${crypto.randomUUID().slice(0, 8)}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`create database ${name}`);
  await sql.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}
