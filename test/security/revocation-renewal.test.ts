import { afterAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { bearer, signUpToken } from "./revocation-helpers.ts";

/**
 * Issue 12, hole 5: T1 renewed into T2 (same jti, later exp); signing out with T1 must
 * keep T2 refused after T1's own exp, for as long as the session's longest-lived token.
 */
describe("a signed-out session does not come back after renewal", () => {
  let s: ServerProcess | undefined;
  afterAll(() => s?.kill("SIGKILL"));

  test("sign-out with the older token keeps the renewed one refused past the older one's exp", async () => {
    s = await startServerProcess({
      DATABASE_URL: await freshDatabaseUrl("rev_renewal"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("rev-renewal"),
      WEBUI_SECRET_KEY: "revocation-renewal-secret-0123456789",
      ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", JWT_EXPIRES_IN: "6s",
    });
    const t1 = await signUpToken(s.baseUrl, "renew@example.com");
    const exp1 = decodeJwt(t1).exp!;
    // Renewal happens in the last quarter of a token's life (here the last 1.5 s).
    await Bun.sleep(Math.max(0, (exp1 - 1.3) * 1000 - Date.now()));
    const renewed = await fetch(`${s.baseUrl}/api/v1/auths/`, bearer(t1));
    expect(renewed.status).toBe(200);
    const t2 = ((await renewed.json()) as { token: string }).token;
    expect(t2).not.toBe(t1);
    expect(decodeJwt(t2).jti).toBe(decodeJwt(t1).jti);
    expect(decodeJwt(t2).exp!).toBeGreaterThan(exp1);

    expect((await fetch(`${s.baseUrl}/api/v1/auths/signout`, bearer(t1))).status).toBe(200);
    expect((await fetch(`${s.baseUrl}/api/v1/auths/`, bearer(t2))).status).toBe(401);
    // Past T1's exp (plus the store's expiry granularity), T2 is still within its own life.
    await Bun.sleep(Math.max(0, (exp1 + 1.2) * 1000 - Date.now()));
    expect(Date.now() / 1000).toBeLessThan(decodeJwt(t2).exp!);
    expect((await fetch(`${s.baseUrl}/api/v1/auths/`, bearer(t2))).status).toBe(401);
  });
});
