import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signUp, startSecurityServer, type SecurityServer } from "./security-server.ts";

// Hole 12: X-Forwarded-For is walked from the right and stops at the first hop that is not a
// listed proxy; `*` vouches for the socket peer only, never for the client-chosen left-most entry.
const signInIp = async (s: SecurityServer, email: string, xff: string): Promise<string> => {
  const r = await s.postJson("/api/v1/auths/signin", { email, password: "correct-horse-battery" }, { "x-forwarded-for": xff });
  expect(r.status).toBe(200);
  const { token } = (await r.json()) as { token: string };
  const sessions = (await (await fetch(`${s.baseUrl}/api/v1/auths/sessions`, { headers: { authorization: `Bearer ${token}` } })).json()) as Array<{ ip: string; current: boolean }>;
  return sessions.find((x) => x.current)!.ip;
};

describe("GATEHOUSE_TRUSTED_PROXIES='*'", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("xff_star", { GATEHOUSE_TRUSTED_PROXIES: "*" });
    await signUp(s, "ada@example.com");
  });
  afterAll(() => s.close());

  test("the address the proxy appended (right-most) is the client, not the one the client prepended", async () => {
    expect(await signInIp(s, "ada@example.com", "6.6.6.6, 203.0.113.7")).toBe("203.0.113.7");
  });
});

describe("listed proxies and CIDR ranges (127.0.0.1, 10.0.0.0/8)", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("xff_list", { GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1,10.0.0.0/8" });
    await signUp(s, "bea@example.com");
  });
  afterAll(() => s.close());

  test("inner proxies are skipped, the walk stops at the first untrusted hop", async () => {
    expect(await signInIp(s, "bea@example.com", "6.6.6.6, 203.0.113.9, 10.1.2.3")).toBe("203.0.113.9");
  });

  test("a chain of only trusted hops ends at its left-most entry (vouched for by every hop to its right)", async () => {
    expect(await signInIp(s, "bea@example.com", "10.4.4.4, 10.1.2.3")).toBe("10.4.4.4");
  });
});

describe("a peer that is not a trusted proxy", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("xff_none", { GATEHOUSE_TRUSTED_PROXIES: "10.9.9.9" });
    await signUp(s, "cyd@example.com");
  });
  afterAll(() => s.close());

  test("its X-Forwarded-For is ignored: the socket peer is the client", async () => {
    expect(await signInIp(s, "cyd@example.com", "203.0.113.5, 10.9.9.9")).toBe("127.0.0.1");
  });
});
