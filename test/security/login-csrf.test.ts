import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signUp, startSecurityServer, usersWithEmail, type SecurityServer } from "./security-server.ts";

// Hole 4: a cross-site post to sign-in/sign-up must not plant the attacker's session cookie.
let s: SecurityServer;
const ATTACKER = { email: "attacker@example.com", password: "correct-horse-battery" };
const tokenCookie = (r: Response) => r.headers.getSetCookie().some((c) => c.startsWith("token=ey"));

beforeAll(async () => {
  s = await startSecurityServer("login_csrf");
  await signUp(s, "admin@example.com");
  await signUp(s, ATTACKER.email);
});
afterAll(() => s.close());

describe("sign-in", () => {
  test("a cross-site urlencoded form post sets no cookie", async () => {
    const r = await fetch(`${s.baseUrl}/api/v1/auths/signin`, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      body: new URLSearchParams(ATTACKER),
    });
    expect({ status: r.status, cookie: tokenCookie(r) }).toEqual({ status: 403, cookie: false });
  });

  test("the same post to /api/v1/auths/signin/ (trailing slash, served by the same route) is refused too", async () => {
    const r = await fetch(`${s.baseUrl}/api/v1/auths/signin/`, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
      body: new URLSearchParams(ATTACKER),
    });
    expect({ status: r.status, cookie: tokenCookie(r) }).toEqual({ status: 403, cookie: false });
  });

  test("urlencoded without any browser header is refused too: JSON only (415)", async () => {
    const r = await fetch(`${s.baseUrl}/api/v1/auths/signin`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(ATTACKER) });
    expect({ status: r.status, cookie: tokenCookie(r) }).toEqual({ status: 415, cookie: false });
  });

  test("JSON marked cross-site or same-site, or from a foreign Origin, is refused", async () => {
    const attempts: Record<string, string>[] = [{ "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { origin: "https://evil.example" }, { origin: "null" }];
    for (const headers of attempts) {
      const r = await s.postJson("/api/v1/auths/signin", ATTACKER, headers);
      expect({ headers, status: r.status, cookie: tokenCookie(r) }).toEqual({ headers, status: 403, cookie: false });
    }
  });

  test("JSON from our own page, or from a non-browser client, signs in", async () => {
    const attempts: Record<string, string>[] = [{ "sec-fetch-site": "same-origin", origin: s.origin }, { origin: s.origin }, {}];
    for (const headers of attempts) {
      const r = await s.postJson("/api/v1/auths/signin", ATTACKER, headers);
      expect({ headers, status: r.status, cookie: tokenCookie(r) }).toEqual({ headers, status: 200, cookie: true });
    }
  });
});

describe("sign-up", () => {
  test("a cross-site form post creates no account and sets no cookie", async () => {
    const r = await fetch(`${s.baseUrl}/api/v1/auths/signup`, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      body: new URLSearchParams({ name: "Sly", email: "sly@example.com", password: "sly-password-1" }),
    });
    expect({ status: r.status, cookie: tokenCookie(r) }).toEqual({ status: 403, cookie: false });
    const json = await s.postJson("/api/v1/auths/signup", { name: "Sly", email: "sly@example.com", password: "sly-password-1" }, { origin: "https://evil.example" });
    expect(json.status).toBe(403);
    expect(await usersWithEmail(s, "sly@example.com")).toBe(0);
  });
});
