import { afterAll, beforeAll, expect, test } from "bun:test";
import { signUp, startSecurityServer, type SecurityServer } from "./security-server.ts";

// Hole 9: a top-level cross-site navigation to GET /api/v1/auths/signout must not end the session.
let s: SecurityServer;
beforeAll(async () => {
  s = await startSecurityServer("signout_csrf");
  await signUp(s, "admin@example.com");
});
afterAll(() => s.close());

const alive = async (token: string) => (await fetch(`${s.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${token}` } })).status === 200;

test("cross-site or same-site GET sign-out (navigation from another site) leaves the session alive", async () => {
  const { token } = await signUp(s, "uma@example.com");
  const attempts: Record<string, string>[] = [{ "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }, { "sec-fetch-site": "same-site" }, { origin: "https://evil.example" }];
  for (const headers of attempts) {
    for (const path of ["/api/v1/auths/signout", "/api/v1/auths/signout/"]) {
      const r = await fetch(`${s.baseUrl}${path}`, { headers: { ...headers, cookie: `token=${token}` }, redirect: "manual" });
      expect({ path, headers, status: r.status }).toEqual({ path, headers, status: 403 });
      expect(await alive(token)).toBe(true);
    }
  }
});

test("Open WebUI's frontend (same-origin fetch with the cookie) still signs out with GET", async () => {
  const { token } = await signUp(s, "vic@example.com");
  const r = await fetch(`${s.baseUrl}/api/v1/auths/signout`, { headers: { "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors", cookie: `token=${token}` } });
  expect(r.status).toBe(200);
  expect(await alive(token)).toBe(false);
});
