import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bootOutcome, signUp, startSecurityServer, SUITE_SECRET, type SecurityServer } from "./security-server.ts";

// Hole 10: cookies get Secure behind HTTPS; SameSite=None without Secure is a boot error.
const tokenCookie = (r: Response) => r.headers.getSetCookie().find((c) => c.startsWith("token="))!;
const secure = (c: string) => /;\s*Secure(;|$)/i.test(c);
const signIn = (s: SecurityServer, headers: Record<string, string> = {}) =>
  s.postJson("/api/v1/auths/signin", { email: "ada@example.com", password: "correct-horse-battery" }, headers);

describe("WEBUI_URL is https", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("cookie_https_url", { WEBUI_URL: "https://chat.example.com" });
    await signUp(s, "ada@example.com");
  });
  afterAll(() => s.close());

  test("the token cookie is Secure", async () => {
    expect(secure(tokenCookie(await signIn(s)))).toBe(true);
  });
});

describe("a trusted proxy (127.0.0.1) terminates TLS", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("cookie_xfp", { GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1" });
    await signUp(s, "ada@example.com");
  });
  afterAll(() => s.close());

  test("X-Forwarded-Proto: https from it makes the cookie Secure; plain http does not", async () => {
    expect(secure(tokenCookie(await signIn(s, { "x-forwarded-proto": "https" })))).toBe(true);
    expect(secure(tokenCookie(await signIn(s, { "x-forwarded-proto": "http" })))).toBe(false);
  });
});

describe("a client's own X-Forwarded-Proto (peer not a trusted proxy)", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("cookie_xfp_untrusted", { GATEHOUSE_TRUSTED_PROXIES: "10.9.9.9" });
    await signUp(s, "ada@example.com");
  });
  afterAll(() => s.close());

  test("is ignored (and WEBUI_AUTH_COOKIE_SECURE is what an operator sets otherwise)", async () => {
    expect(secure(tokenCookie(await signIn(s, { "x-forwarded-proto": "https" })))).toBe(false);
  });
});

describe("boot", () => {
  test("SameSite=None without Secure exits 2 naming the variable", async () => {
    const r = await bootOutcome({ WEBUI_SECRET_KEY: SUITE_SECRET, WEBUI_AUTH_COOKIE_SAME_SITE: "none" });
    expect({ code: r.code, live: r.live }).toEqual({ code: 2, live: false });
    expect(r.output).toContain("WEBUI_AUTH_COOKIE_SAME_SITE");
  });

  test("SameSite=None with an https WEBUI_URL boots", async () => {
    const r = await bootOutcome({ WEBUI_SECRET_KEY: SUITE_SECRET, WEBUI_AUTH_COOKIE_SAME_SITE: "none", WEBUI_URL: "https://chat.example.com" });
    expect({ code: r.code, live: r.live }).toEqual({ code: null, live: true });
  });
});
