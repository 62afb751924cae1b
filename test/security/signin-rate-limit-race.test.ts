/**
 * Attack: many wrong passwords at once. The limit must hold for parallel attempts (consumed
 * before the slow hash, not counted after it), per email and per IP; and a burst must not
 * teach the failure-time floor its queue waits.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveFreshApp, signUpOk, type ServedApp } from "../helpers/served-app.ts";

const LIMIT = 15;
/** Per IP lower than per email, to keep the test short (every verification costs real time). */
const IP_LIMIT = 5;
const BURST = 40;
/** FailureFloor's cap: a floor that learnt queue waits sits there. */
const FLOOR_CAP_MS = 2000;
let s: ServedApp;

beforeAll(async () => {
  s = await serveFreshApp("sec_ratelimit", {
    ENABLE_SIGNUP: "true",
    GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1",
    GATEHOUSE_SIGNIN_RATE_LIMIT_PER_EMAIL: String(LIMIT),
    GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: String(IP_LIMIT),
    // One crypto thread: a burst queues, so a floor that learnt queue waits shows it plainly.
    GATEHOUSE_CRYPTO_THREADS: "1",
  });
  await signUpOk(s, "Victim", "victim@example.com", "the-right-password");
});

afterAll(async () => {
  await s?.close();
});

let ipSeq = 0;
/** A client address of its own (through the trusted loopback proxy), so only the email key counts. */
const freshIp = () => `198.51.100.${++ipSeq}`;

function signIn(email: string, password: string, ip: string): Promise<Response> {
  return s.post("/api/v1/auths/signin", { email, password }, undefined, { "x-forwarded-for": ip });
}

async function statuses(rs: Promise<Response>[]): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (const r of await Promise.all(rs)) {
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    if (r.status === 429) expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await r.arrayBuffer();
  }
  return counts;
}

describe("parallel wrong passwords", () => {
  // First: the floor's window (64 samples) must not hold the other tests' samples yet.
  test("a burst of failures does not teach the failure floor its queue waits", async () => {
    const floor = s.app.instance.auth.failureFloor;
    // One failure alone: what one verification costs here, now.
    expect((await signIn("alone@example.com", "wrong", freshIp())).status).toBe(400);
    const single = floor.floorMs();
    expect(single).toBeGreaterThan(0);
    // 12 unknown emails from 12 addresses at once, all on one crypto thread.
    const counts = await statuses(Array.from({ length: 12 }, (_, i) => signIn(`burst${i}@example.com`, "wrong", freshIp())));
    expect(counts[400]).toBe(12);
    const after = floor.floorMs();
    // Queue waits would put the floor near 12 verifications; its own cost stays near one.
    console.log(`failure floor: ${single.toFixed(0)} ms after one failure, ${after.toFixed(0)} ms after a burst of 12`);
    expect(after).toBeLessThan(Math.min(FLOOR_CAP_MS, Math.max(single * 3, 300)));
  });

  test(`${BURST} at once for one email: at most ${LIMIT} are verified, the rest get 429`, async () => {
    const counts = await statuses(Array.from({ length: BURST }, () => signIn("victim@example.com", "wrong-guess", freshIp())));
    expect({ verified: counts[400] ?? 0, limited: counts[429] ?? 0 }).toEqual({ verified: LIMIT, limited: BURST - LIMIT });
    // Still limited afterwards, even with the right password.
    expect((await signIn("victim@example.com", "the-right-password", freshIp())).status).toBe(429);
  });

  test(`${BURST} at once from one IP (different emails): at most ${IP_LIMIT} are verified`, async () => {
    const ip = freshIp();
    const counts = await statuses(Array.from({ length: BURST }, (_, i) => signIn(`nobody${i}@example.com`, "wrong-guess", ip)));
    expect({ verified: counts[400] ?? 0, limited: counts[429] ?? 0 }).toEqual({ verified: IP_LIMIT, limited: BURST - IP_LIMIT });
  });

  test(`a successful sign-in gives its attempt back: ${IP_LIMIT + 1} good sign-ins in a row from one IP all pass`, async () => {
    await signUpOk(s, "Regular", "regular@example.com", "regular-password");
    const ip = freshIp();
    for (let i = 0; i <= IP_LIMIT; i++) expect((await signIn("regular@example.com", "regular-password", ip)).status).toBe(200);
  });

});
