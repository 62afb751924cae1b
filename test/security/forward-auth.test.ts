import { afterAll, beforeAll, expect, test } from "bun:test";
import { signUp, startSecurityServer, type SecurityServer } from "./security-server.ts";

// Forward auth follows oauth2-proxy/Authelia: 401 = "send the browser to sign in", 403 = "signed in, may not pass".
let s: SecurityServer;
const verify = (headers: Record<string, string> = {}) => fetch(`${s.baseUrl}/api/v1/auths/verify`, { headers });

beforeAll(async () => {
  s = await startSecurityServer("forward_auth", { DEFAULT_USER_ROLE: "pending" });
});
afterAll(() => s.close());

test("401 for a missing, an invalid and a revoked credential", async () => {
  const admin = await signUp(s, "admin@example.com");
  expect((await verify()).status).toBe(401);
  expect((await verify({ authorization: "Bearer x.y.z" })).status).toBe(401);
  expect((await verify({ cookie: `token=${admin.token}` })).status).toBe(200);
  const out = await fetch(`${s.baseUrl}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${admin.token}` } });
  expect(out.status).toBe(200);
  expect((await verify({ cookie: `token=${admin.token}` })).status).toBe(401);
});

test("403 for a signed-in user who may not pass (pending)", async () => {
  const pending = await signUp(s, "pat@example.com");
  const r = await verify({ authorization: `Bearer ${pending.token}` });
  expect(r.status).toBe(403);
  expect(((await r.json()) as { detail: string }).detail).toContain("permission");
});
