/**
 * The pages' defences seen from a real Chromium and from plain fetch against a real server:
 * a form on another site cannot post to Gatehouse (CSRF, including login CSRF), the strict
 * CSP lets the page's own nonce'd style through and nothing else, focus is visible.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LAPTOP, pageErrors, startBrowserEnv, type BrowserEnv } from "./browser-env.ts";

const EVIL = "http://evil.test";
const PASSWORD = "security-horse-battery-9";
let env: BrowserEnv;
let base = "";

const post = (path: string, fields: Record<string, string>, headers: Record<string, string>) =>
  fetch(`${base}${path}`, {
    method: "POST", redirect: "manual", body: new URLSearchParams(fields).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  });

beforeAll(async () => {
  env = await startBrowserEnv("browser_security");
  base = env.base;
});
afterAll(async () => {
  await env?.close();
});

describe("CSRF over plain fetch against the real server", () => {
  test("a cross-site Origin → 403 {detail}; neither Origin nor Sec-Fetch-Site → 403; our own Origin → 303 signed up", async () => {
    const fields = { name: "Sam Secure", email: "sam@example.com", password: PASSWORD };
    const refused: Record<string, string>[] = [{ origin: EVIL }, { origin: EVIL, "sec-fetch-site": "cross-site" }, {}];
    for (const headers of refused) {
      const r = await post("/auth/signup", fields, headers);
      expect({ headers, status: r.status }).toEqual({ headers, status: 403 });
      expect(((await r.json()) as { detail: string }).detail).toContain("Cross-site form submission refused");
      expect(r.headers.getSetCookie()).toEqual([]);
    }
    const ok = await post("/auth/signup", fields, { origin: base });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/account/sessions");
    expect(ok.headers.getSetCookie().some((c) => c.startsWith("token=ey"))).toBe(true);
  });
});

describe("CSRF in Chromium", () => {
  test("a form on another site posting our sign-in (login CSRF) or a revocation is refused with 403 and sets no cookie", async () => {
    const context = await env.newContext(LAPTOP);
    const forms = `<!doctype html><html lang="en"><title>Prize</title>
<form method="post" action="${base}/auth/signin"><input type="hidden" name="email" value="sam@example.com"><input type="hidden" name="password" value="${PASSWORD}"><button>Claim prize</button></form>
<form method="post" action="${base}/account/sessions/revoke-others"><button>Claim other prize</button></form></html>`;
    await context.route(`${EVIL}/**`, (route) => route.fulfill({ contentType: "text/html", body: forms }));
    const page = await context.newPage();
    for (const [button, path] of [["Claim prize", "/auth/signin"], ["Claim other prize", "/account/sessions/revoke-others"]] as const) {
      await page.goto(`${EVIL}/`);
      const [response] = await Promise.all([page.waitForResponse(`${base}${path}`), page.getByRole("button", { name: button, exact: true }).click()]);
      expect(await response.request().headerValue("origin")).toBe(EVIL);
      expect(response.status()).toBe(403);
      expect(((await response.json()) as { detail: string }).detail).toContain("Cross-site form submission refused");
    }
    expect((await context.cookies(base)).find((c) => c.name === "token")).toBeUndefined();
    // The same form on our own page goes through: Chromium names our origin.
    const own = await context.newPage();
    await own.goto(`${base}/auth`);
    await own.getByLabel("Email", { exact: true }).fill("sam@example.com");
    await own.getByLabel("Password", { exact: true }).fill(PASSWORD);
    const [signin] = await Promise.all([own.waitForRequest(`${base}/auth/signin`), own.getByRole("button", { name: "Sign in" }).click()]);
    expect(await signin.headerValue("origin")).toBe(base);
    await own.waitForURL(`${base}/account/sessions`);
    await context.close();
  });
});

describe("forms over plain HTTP on a LAN name", () => {
  test("sign-in and sign-out work where Chromium sends no Sec-Fetch-Site (not a secure context): the Origin header carries them", async () => {
    const plain = env.plainBase;
    const context = await env.newContext(LAPTOP);
    const page = await context.newPage();
    await page.goto(`${plain}/auth`);
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
    await page.getByLabel("Email", { exact: true }).fill("sam@example.com");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    const [signin] = await Promise.all([page.waitForRequest(`${plain}/auth/signin`), page.getByRole("button", { name: "Sign in" }).click()]);
    expect(await signin.headerValue("origin")).toBe(plain);
    await page.waitForURL(`${plain}/account/sessions`);
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(`${plain}/auth?notice=signed_out`);
    await context.close();
  });
});

describe("page hardening in Chromium", () => {
  test("the nonce'd style applies with no CSP refusal or console error; focus on a field is visibly outlined", async () => {
    const context = await env.newContext(LAPTOP);
    const page = await context.newPage();
    const errors = pageErrors(page);
    const response = await page.goto(`${base}/auth`);
    expect(response?.headers()["content-security-policy"]).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]{24}'/);
    expect(response?.headers()["x-frame-options"]).toBe("DENY");
    expect(response?.headers()["cache-control"]).toBe("no-store");
    // 44rem: the page's own stylesheet ran, which it only does if the CSP nonce matched.
    expect(await page.evaluate(() => getComputedStyle(document.querySelector("main")!).maxWidth)).toBe("704px");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("signin-email");
    const outline = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return `${s.outlineStyle} ${s.outlineWidth}`;
    });
    expect(outline).toBe("solid 3px");
    expect(errors).toEqual([]);
    await context.close();
  });

  test("an inline script added to the page is refused by the CSP (it carries no nonce)", async () => {
    const context = await env.newContext(LAPTOP);
    const page = await context.newPage();
    const errors = pageErrors(page);
    await page.goto(`${base}/auth`);
    // Markup added after load (as an injection would be) carries no nonce: Chromium refuses it.
    await page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "document.title = 'pwned'";
      document.body.append(s);
    });
    await expect(page.title()).resolves.toBe("Sign in · Gatehouse");
    expect(errors.some((e) => e.includes("Content Security Policy"))).toBe(true);
    await context.close();
  });
});
