/**
 * Timing must not tell an unknown user from a wrong password. An unknown user's exchange
 * skips the user bind, so against a directory that takes 100 ms per answer it is one
 * answer (≈ 100 ms) shorter; the failure floor pads it to the slowest recent exchange.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { startSlapd, LDAP_APP, LDAP_PEOPLE, type SlapdHandle } from "../harness/slapd.ts";
import { startDelayProxy, type DelayProxy } from "../fixtures/delay-proxy.ts";

const DELAY_MS = 100;
let slapd: SlapdHandle;
let proxy: DelayProxy;
let app: TestApp;

beforeAll(async () => {
  slapd = await startSlapd();
  proxy = await startDelayProxy(slapd.port, DELAY_MS);
  app = await startTestApp({
    DATABASE_URL: await freshDatabaseUrl("ldaptiming"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("ldaptiming"),
    ENABLE_LDAP: "true",
    LDAP_SERVER_HOST: "127.0.0.1",
    LDAP_SERVER_PORT: String(proxy.port),
    LDAP_USE_TLS: "false",
    LDAP_APP_DN: LDAP_APP.dn,
    LDAP_APP_PASSWORD: LDAP_APP.password,
    LDAP_SEARCH_BASE: LDAP_PEOPLE,
  });
});
afterAll(async () => {
  await app?.close();
  await proxy?.close();
  await slapd?.stop();
});

async function timed(user: string, password: string): Promise<number> {
  const started = performance.now();
  const r = await app.request("/api/v1/auths/ldap", postJson({ user, password }));
  expect(r.status).toBe(400);
  await r.arrayBuffer();
  return performance.now() - started;
}

test("an unknown user's refusal takes at least as long as the wrong-password refusals before it", async () => {
  const wrong: number[] = [];
  for (let i = 0; i < 3; i++) wrong.push(await timed("ada", `wrong-${i}`));
  // The exchange of a wrong password is three slow answers; an unknown user's only two.
  expect(Math.min(...wrong)).toBeGreaterThanOrEqual(3 * DELAY_MS);
  const unknown: number[] = [];
  for (let i = 0; i < 4; i++) unknown.push(await timed(`nobody-${i}`, "wrong"));
  const floor = Math.min(...wrong);
  // A timer can fire a millisecond early; anything shorter than that is a difference an attacker can measure.
  expect({ wrong, unknown, shorter: unknown.filter((u) => u < floor - 5) }).toEqual({ wrong, unknown, shorter: [] });
});
