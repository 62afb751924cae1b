import { afterAll, beforeAll, expect, test } from "bun:test";
import { readmeNginxBlock, startNginx, type NginxFixture } from "./nginx-fixture.ts";
import { signUp, startSecurityServer, type SecurityServer } from "./security-server.ts";

// The README's nginx snippet with real nginx: 401 → sign-in page with a same-site `next`, back after sign-in.
let s: SecurityServer;
let nginx: NginxFixture;
let app: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  s = await startSecurityServer("fa_nginx", { GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1", DEFAULT_USER_ROLE: "pending" });
  await signUp(s, "admin@example.com");
  app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => new Response(`app for ${r.headers.get("x-user-email")} at ${new URL(r.url).pathname}${new URL(r.url).search}`) });
  nginx = await startNginx(readmeNginxBlock(), { gatehousePort: s.gatehouse.server.port, appPort: app.port! });
});
afterAll(async () => {
  await nginx?.stop();
  await app?.stop(true);
  await s?.close();
});

test("no session: 302 to /auth with next=<the original path and query>", async () => {
  const r = await fetch(`${nginx.baseUrl}/private/report?a=1&b=2`, { redirect: "manual" });
  expect(r.status).toBe(302);
  expect(new URL(r.headers.get("location")!, nginx.baseUrl).pathname + new URL(r.headers.get("location")!, nginx.baseUrl).search).toBe("/auth?next=/private/report?a=1&b=2");
});

test("the sign-in form carries next, and signing in returns the browser there; then the app sees the user", async () => {
  const page = await (await fetch(`${nginx.baseUrl}/auth?next=/private/report?a=1&b=2`)).text();
  expect(page).toContain('<input type="hidden" name="next" value="/private/report?a=1&amp;b=2">');
  const signin = await fetch(`${nginx.baseUrl}/auth/signin`, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: nginx.baseUrl },
    body: new URLSearchParams({ email: "admin@example.com", password: "correct-horse-battery", next: "/private/report?a=1&b=2" }),
  });
  expect(signin.status).toBe(303);
  expect(signin.headers.get("location")).toBe("/private/report?a=1&b=2");
  const cookie = signin.headers.getSetCookie().find((c) => c.startsWith("token="))!.split(";")[0]!;
  const r = await fetch(`${nginx.baseUrl}/private/report?a=1&b=2`, { headers: { cookie }, redirect: "manual" });
  expect(r.status).toBe(200);
  expect(await r.text()).toBe("app for admin@example.com at /private/report?a=1&b=2");
});

test("a next leading off the site is dropped; a pending user gets 403, not a sign-in loop", async () => {
  for (const next of ["//evil.example/x", "https://evil.example/x", "/\\evil.example"]) {
    const page = await (await fetch(`${nginx.baseUrl}/auth?next=${encodeURIComponent(next)}`)).text();
    expect({ next, hidden: page.includes('name="next"') }).toEqual({ next, hidden: false });
  }
  const pending = await signUp(s, "pat@example.com");
  const r = await fetch(`${nginx.baseUrl}/private`, { headers: { authorization: `Bearer ${pending.token}` }, redirect: "manual" });
  expect(r.status).toBe(403);
});
