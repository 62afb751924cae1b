import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT, decodeJwt } from "jose";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { within } from "../helpers/wait.ts";
import { bearer, signUpToken } from "./revocation-helpers.ts";

const SECRET = "revocation-legacy-secret-0123456789";

/** Issue 12, "Also": signing out an Open WebUI token without `jti` revokes that token on every instance. */
describe("sign-out of a legacy token without jti", () => {
  const procs: ServerProcess[] = [];
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    const env = {
      DATABASE_URL: await freshDatabaseUrl("rev_legacy"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("rev-legacy"),
      WEBUI_SECRET_KEY: SECRET, ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user",
    };
    a = await startServerProcess(env);
    procs.push(a);
    b = await startServerProcess(env);
    procs.push(b);
  });
  afterAll(() => {
    for (const p of procs) p.kill("SIGKILL");
  });

  test("the signed-out legacy token is refused on both instances; another legacy token of the user is not", async () => {
    const id = decodeJwt(await signUpToken(a.baseUrl, "legacy@example.com")).id as string;
    const key = new TextEncoder().encode(SECRET);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const legacy = await new SignJWT({ id, exp }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
    const other = await new SignJWT({ id, exp: exp + 1 }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
    const me = async (s: ServerProcess, t: string) => (await fetch(`${s.baseUrl}/api/v1/auths/`, bearer(t))).status;
    expect([await me(a, legacy), await me(b, legacy), await me(b, other)]).toEqual([200, 200, 200]);
    expect((await fetch(`${a.baseUrl}/api/v1/auths/signout`, bearer(legacy))).status).toBe(200);
    await within(2000, async () => (await me(a, legacy)) === 401 && (await me(b, legacy)) === 401);
    expect(await me(b, other)).toBe(200);
  });
});
