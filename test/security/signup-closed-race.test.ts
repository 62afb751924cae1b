/**
 * Attack: with ENABLE_SIGNUP=false only the very first user may sign up (and becomes admin).
 * Twenty simultaneous first sign-ups must give one admin and nineteen refusals, not pending accounts.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { serveFreshApp, type ServedApp } from "../helpers/served-app.ts";

let s: ServedApp;

beforeAll(async () => {
  s = await serveFreshApp("sec_signup_closed", { ENABLE_SIGNUP: "false", DEFAULT_USER_ROLE: "pending" });
});

afterAll(async () => {
  await s?.close();
});

test("20 concurrent first sign-ups while sign-up is closed: 1 admin, 19 refused with 403, no other account", async () => {
  const responses = await Promise.all(
    Array.from({ length: 20 }, (_, i) => s.post("/api/v1/auths/signup", { name: `racer${i}`, email: `racer${i}@example.com`, password: `racer-password-${i}` })),
  );
  const statuses = responses.map((r) => r.status).sort();
  const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ role?: string; detail?: string }>));
  expect(statuses).toEqual([200, ...Array<number>(19).fill(403)]);
  expect(bodies.filter((b) => b.role === "admin")).toHaveLength(1);
  for (const b of bodies) if (b.role === undefined) expect(typeof b.detail).toBe("string");

  const sql = postgres(s.dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ role: string }[]>`select role from "user"`;
    expect(rows.map((r) => r.role)).toEqual(["admin"]);
    const auth = await sql<{ n: string }[]>`select count(*) as n from auth`;
    expect(Number(auth[0]!.n)).toBe(1);
  } finally {
    await sql.end();
  }
});
