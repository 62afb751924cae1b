/**
 * The sign-in and devices pages in a real headless Chromium (Debian's, driven by
 * playwright-core) against a real Gatehouse server on real Postgres and Redis, and an
 * OAuth sign-in through the test OpenID provider. Screenshots go to test/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BrowserContext } from "playwright-core";
import { axeViolations, LAPTOP, PHONE, shots, startBrowserEnv, type BrowserEnv } from "./browser-env.ts";

const PASSWORD = "browser-horse-battery-7";
let env: BrowserEnv;
let base = "";
let laptop: BrowserContext;
let phone: BrowserContext;

beforeAll(async () => {
  env = await startBrowserEnv("browser");
  base = env.base;
  laptop = await env.newContext(LAPTOP);
  phone = await env.newContext(PHONE);
});
afterAll(async () => {
  await env?.close();
});

describe("sign-in and devices pages in Chromium", () => {
  test("accessibility: the sign-in page with sign-up open has no axe-core violation (WCAG 2.1 A/AA, best practice), desktop and 375 px", async () => {
    // The pages allow no script; axe is injected through the DevTools protocol, in a CSP-bypassing context.
    const context = await env.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/auth`);
    await expect(page.locator("#signup-email").count()).resolves.toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 375, height: 740 });
    expect(await axeViolations(page)).toEqual([]);
    // The check itself can fail: an unlabelled field on a page without lang is reported.
    const probe = await context.newPage();
    await probe.setContent("<html><body><input id=x></body></html>");
    const found = await axeViolations(probe);
    expect(found.some((v) => v.startsWith("label "))).toBe(true);
    expect(found.some((v) => v.startsWith("html-has-lang "))).toBe(true);
    await context.close();
  });

  test("the first visitor signs up through the page and lands on the devices page", async () => {
    const page = await laptop.newPage();
    await page.goto(`${base}/auth`);
    expect(await shots(page, "auth-signup-open")).toBe(0);
    await page.getByLabel("Name", { exact: true }).fill("Bea Browser");
    await page.locator("#signup-email").fill("bea@example.com");
    await page.locator("#signup-password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${base}/account/sessions`);
    await expect(page.getByRole("heading", { name: "1 active session" }).count()).resolves.toBe(1);
    await page.close();
  });

  test("sign-in from a second browser (a phone) with a wrong and then the right password", async () => {
    const page = await phone.newPage();
    await page.goto(`${base}/auth`);
    await expect(page.locator("#signup-email").count()).resolves.toBe(0);
    expect(await shots(page, "auth-signin")).toBe(0);
    // A fresh load at the phone's size: the form is used as a phone user meets it, not mid-resize.
    await page.goto(`${base}/auth`);
    await page.getByLabel("Email", { exact: true }).fill("bea@example.com");
    await page.getByLabel("Password", { exact: true }).fill("not-the-password");
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && r.url() === `${base}/auth/signin`),
      page.getByRole("button", { name: "Sign in" }).click(),
    ]);
    expect(refused.status()).toBe(400);
    await expect(page.getByRole("alert").textContent()).resolves.toContain("The email or password provided is incorrect.");
    await expect(page.getByLabel("Email", { exact: true }).inputValue()).resolves.toBe("bea@example.com");
    expect(await shots(page, "auth-wrong-password")).toBe(0);
    await page.goto(`${base}/auth`);
    await page.getByLabel("Email", { exact: true }).fill("bea@example.com");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/account/sessions`);
    await page.close();
  });

  test("the laptop sees both sessions, its own marked current; the page fits a 375 px screen and has no axe-core violation", async () => {
    const page = await laptop.newPage();
    await page.goto(`${base}/account/sessions`);
    await expect(page.getByRole("heading", { name: "2 active sessions" }).count()).resolves.toBe(1);
    const current = page.locator('li[aria-current="true"]');
    await expect(current.count()).resolves.toBe(1);
    await expect(current.textContent()).resolves.toContain("Chrome on Linux");
    await expect(page.locator("li:not([aria-current])").textContent()).resolves.toContain("Safari on iOS");
    expect(await shots(page, "sessions")).toBe(0);
    await page.close();
    const a11y = await env.newContext({ bypassCSP: true, viewport: { width: 375, height: 740 }, storageState: await laptop.storageState() });
    const checked = await a11y.newPage();
    await checked.goto(`${base}/account/sessions`);
    await expect(checked.getByRole("heading", { name: "2 active sessions" }).count()).resolves.toBe(1);
    expect(await axeViolations(checked)).toEqual([]);
    await a11y.close();
  });

  test("revoking the phone's session signs the phone out on its next request", async () => {
    const page = await laptop.newPage();
    await page.goto(`${base}/account/sessions`);
    await page.locator("li:not([aria-current])").getByRole("button", { name: /^Revoke/ }).click();
    await page.waitForURL(`${base}/account/sessions?notice=revoked`);
    await expect(page.getByRole("status").textContent()).resolves.toContain("Session revoked");
    await expect(page.getByRole("heading", { name: "1 active session" }).count()).resolves.toBe(1);
    const phonePage = await phone.newPage();
    await phonePage.goto(`${base}/account/sessions`);
    await phonePage.waitForURL(`${base}/auth?notice=session_ended`);
    await expect(phonePage.getByRole("status").textContent()).resolves.toContain("Your session has ended");
    expect((await phone.cookies(base)).find((c) => c.name === "token")).toBeUndefined();
    expect(await shots(phonePage, "auth-session-ended")).toBe(0);
    await phonePage.close();
    await page.close();
  });

  test("sign out everywhere else, then sign out", async () => {
    const phonePage = await phone.newPage();
    await phonePage.goto(`${base}/auth`);
    await phonePage.getByLabel("Email", { exact: true }).fill("bea@example.com");
    await phonePage.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await phonePage.getByRole("button", { name: "Sign in" }).click();
    await phonePage.waitForURL(`${base}/account/sessions`);
    const page = await laptop.newPage();
    await page.goto(`${base}/account/sessions`);
    await page.getByRole("button", { name: "Sign out everywhere else" }).click();
    await page.waitForURL(`${base}/account/sessions?notice=revoked_others`);
    await expect(page.getByRole("heading", { name: "1 active session" }).count()).resolves.toBe(1);
    await phonePage.reload();
    await phonePage.waitForURL(`${base}/auth?notice=session_ended`);
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(`${base}/auth?notice=signed_out`);
    await expect(page.getByRole("status").textContent()).resolves.toContain("You are signed out.");
    expect((await laptop.cookies(base)).find((c) => c.name === "token")).toBeUndefined();
    await page.goto(`${base}/account/sessions`);
    await page.waitForURL(`${base}/auth`);
    await phonePage.close();
    await page.close();
  });

  test("an OAuth error from a callback is shown as text; markup in ?error never runs or renders", async () => {
    const page = await laptop.newPage();
    let dialogs = 0;
    page.on("dialog", (d) => void (dialogs++, d.dismiss()));
    await page.goto(`${base}/auth?error=state_expired_or_used`);
    await expect(page.getByRole("alert").textContent()).resolves.toContain("expired or was already used");
    expect(await shots(page, "auth-oauth-error")).toBe(0);
    await page.goto(`${base}/auth?error=${encodeURIComponent("<img src=x onerror=alert(1)><script>alert(2)</script>")}`);
    await expect(page.getByRole("alert").textContent()).resolves.toBe("Sign-in failed.");
    await expect(page.locator("main img, main script").count()).resolves.toBe(0);
    expect(dialogs).toBe(0);
    await page.close();
  });
});

describe("OAuth sign-in through the test OpenID provider, in Chromium", () => {
  test("the provider button leads through the provider's login and consent pages back to Gatehouse, signed in", async () => {
    const context = await env.newContext(LAPTOP);
    const page = await context.newPage();
    await page.goto(`${base}/auth`);
    await page.getByRole("link", { name: "Test SSO" }).click();
    await page.waitForURL((u) => u.origin === env.idp.issuer);
    await page.locator('input[name="login"]').fill("olivia");
    await page.locator('input[name="password"]').fill("any-password");
    await page.getByRole("button", { name: "Sign-in" }).click();
    // oidc-provider's dev interactions ask for consent next.
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL((u) => u.origin === base);
    expect(new URL(page.url()).pathname).toBe("/auth");
    await expect(page.getByRole("heading", { name: "You are signed in as Olivia Oauth" }).count()).resolves.toBe(1);
    expect(await shots(page, "auth-signed-in")).toBe(0);
    await page.getByRole("link", { name: "Your devices" }).click();
    await page.waitForURL(`${base}/account/sessions`);
    await expect(page.locator('li[aria-current="true"]').textContent()).resolves.toContain("single sign-on");
    const cookies = await context.cookies(base);
    expect(cookies.find((c) => c.name === "token")?.httpOnly).toBe(true);
    expect(cookies.find((c) => c.name === "oauth_session_id")?.httpOnly).toBe(true);
    const idToken = cookies.find((c) => c.name === "oauth_id_token")?.value;
    expect(idToken).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    // Sign-out follows the provider's RP-initiated logout URL, which ends the provider session too.
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL((u) => u.origin === env.idp.issuer && u.pathname === "/session/end");
    // The hint is the ID token of this very session (the provider ends that session, not any other).
    expect(new URL(page.url()).searchParams.get("id_token_hint")).toBe(idToken!);
    expect((await context.cookies(base)).find((c) => c.name === "token")).toBeUndefined();
    await page.getByRole("button", { name: "Yes, sign me out" }).click();
    await page.waitForURL((u) => u.origin === env.idp.issuer && u.pathname === "/session/end/success");
    await context.close();
  });
});
