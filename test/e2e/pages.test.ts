import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

const ORIGIN = "http://gatehouse.test";
let app: TestApp;

const formPost = (path: string, fields: Record<string, string>, headers: Record<string, string> = { origin: ORIGIN }) =>
  app.request(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(fields).toString(), redirect: "manual" });
const tokenCookie = (r: Response) => r.headers.getSetCookie().find((c) => c.startsWith("token="))?.split(";")[0];

beforeAll(async () => {
  app = await startTestApp({ DATABASE_URL: await freshDatabaseUrl("pages"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("pages") });
});
afterAll(async () => {
  await app.close();
});

describe("CSRF: form posts only from our own pages", () => {
  test("a cross-site Origin, a same-site sibling and a post with neither header are refused with 403 {detail}", async () => {
    const attempts: Record<string, string>[] = [{ origin: "https://evil.example" }, { "sec-fetch-site": "cross-site", origin: "https://evil.example" }, { "sec-fetch-site": "same-site", origin: "http://other.gatehouse.test" }, {}];
    for (const headers of attempts) {
      const r = await formPost("/auth/signup", { name: "Eve", email: "eve@example.com", password: "eve-password-1" }, headers);
      expect({ headers, status: r.status }).toEqual({ headers, status: 403 });
      expect(((await r.json()) as { detail: string }).detail).toContain("Cross-site form submission refused");
    }
    // Nothing was created by the refused posts: the first real sign-up still becomes admin below.
    expect(await app.services.pool.run("t", async (c) => Number((await c`select count(*) as n from "user"`)[0]!["n"]))).toBe(0);
  });

  test("same-origin posts are accepted: by Sec-Fetch-Site, or by an Origin naming our host", async () => {
    const up = await formPost("/auth/signup", { name: "Pia", email: "pia@example.com", password: "pia-password-1" }, { "sec-fetch-site": "same-origin" });
    expect(up.status).toBe(303);
    expect(up.headers.get("location")).toBe("/account/sessions");
    expect(tokenCookie(up)).toMatch(/^token=eyJ/);
    const signin = await formPost("/auth/signin", { email: "pia@example.com", password: "pia-password-1" });
    expect(signin.status).toBe(303);
  });
});

describe("pages", () => {
  test("/auth: labelled form, strict CSP, no framing, no caching, no third-party asset", async () => {
    const r = await app.request("/auth");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = r.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain("script-src");
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    expect(r.headers.get("cache-control")).toBe("no-store");
    // same-origin, not no-referrer: our own form posts must carry a real Origin.
    expect(r.headers.get("referrer-policy")).toBe("same-origin");
    const html = await r.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<label for="signin-email">Email</label><input id="signin-email"');
    expect(html).toContain('name="viewport"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // Sign-up is closed once the first user exists (ENABLE_SIGNUP unset).
    expect(html).not.toContain('action="/auth/signup"');
  });

  test("?error is shown as text from a fixed list: markup in it never renders", async () => {
    const known = await (await app.request("/auth?error=state_mismatch")).text();
    expect(known).toContain("could not be matched to this browser");
    const xss = await (await app.request(`/auth?error=${encodeURIComponent('<script>alert(1)</script>')}`)).text();
    expect(xss).not.toContain("<script>alert(1)</script>");
    expect(xss).toContain("Sign-in failed.");
    const notice = await (await app.request(`/auth?notice=${encodeURIComponent("Call +1 555 to restore your account")}`)).text();
    expect(notice).not.toContain("Call +1 555");
  });

  test("a failed sign-in re-renders the page with Open WebUI's message and the email kept (escaped)", async () => {
    const r = await formPost("/auth/signin", { email: 'pia@example.com"><b>x', password: "wrong-password" });
    expect(r.status).toBe(400);
    const html = await r.text();
    expect(html).toContain("The email or password provided is incorrect.");
    expect(html).toContain('value="pia@example.com&quot;&gt;&lt;b&gt;x"');
  });

  test("/account/sessions without a session → /auth; with a dead token → /auth with a notice and cookies cleared", async () => {
    const anon = await app.request("/account/sessions", { redirect: "manual" });
    expect(anon.status).toBe(303);
    expect(anon.headers.get("location")).toBe("/auth");
    const dead = await app.request("/account/sessions", { headers: { cookie: "token=not-a-token" }, redirect: "manual" });
    expect(dead.status).toBe(303);
    expect(dead.headers.get("location")).toBe("/auth?notice=session_ended");
    expect(dead.headers.getSetCookie().some((c) => c.startsWith("token=;"))).toBe(true);
  });

  test("devices page lists sessions with the current one marked; revoking another ends it; someone else's id is not revealed", async () => {
    const a = tokenCookie(await formPost("/auth/signin", { email: "pia@example.com", password: "pia-password-1" }, { origin: ORIGIN, "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0" }))!;
    const b = tokenCookie(await formPost("/auth/signin", { email: "pia@example.com", password: "pia-password-1" }, { origin: ORIGIN, "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1" }))!;
    const html = await (await app.request("/account/sessions", { headers: { cookie: a } })).text();
    expect(html).toContain("Firefox on Linux");
    expect(html).toContain("Safari on iOS");
    expect(html.match(/class="badge">current</g)?.length).toBe(1);
    const bId = /data-session="([^"]+)">\s*<div><strong>Safari on iOS/.exec(html)?.[1];
    expect(bId).toBeDefined();
    const revoke = await formPost(`/account/sessions/${bId}/revoke`, {}, { origin: ORIGIN, cookie: a });
    expect(revoke.status).toBe(303);
    expect(revoke.headers.get("location")).toBe("/account/sessions?notice=revoked");
    expect((await app.request("/api/v1/auths/", { headers: { cookie: b } })).status).toBe(401);
    const again = await formPost(`/account/sessions/${bId}/revoke`, {}, { origin: ORIGIN, cookie: a });
    expect(again.headers.get("location")).toBe("/account/sessions?notice=already_ended");
    const signout = await formPost("/auth/signout", {}, { origin: ORIGIN, cookie: a });
    expect(signout.headers.get("location")).toBe("/auth?notice=signed_out");
    expect((await app.request("/api/v1/auths/", { headers: { cookie: a } })).status).toBe(401);
  });
});

describe("behind a proxy that rewrites Host", () => {
  test("WEBUI_URL's origin is accepted on form posts; other origins still are not", async () => {
    const proxied = await startTestApp({
      DATABASE_URL: await freshDatabaseUrl("pages_proxy"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("pages-proxy"),
      WEBUI_URL: "https://chat.example.com/",
    });
    try {
      const post = (origin: string) => proxied.request("/auth/signup", {
        method: "POST", redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin },
        body: new URLSearchParams({ name: "Pam", email: "pam@example.com", password: "pam-password-1" }).toString(),
      });
      expect((await post("https://evil.example")).status).toBe(403);
      expect((await post("https://chat.example.com")).status).toBe(303);
    } finally {
      await proxied.close();
    }
  });
});
