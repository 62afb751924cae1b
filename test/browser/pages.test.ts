/**
 * The sign-in and devices pages in a real headless Chromium (Debian's, driven by
 * playwright-core) against a real Gatehouse server on real Postgres and Redis, and an
 * OAuth sign-in through the test OpenID provider. Screenshots go to test/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM, ensureChromium } from "../harness/apt.ts";
import { freePort } from "../harness/services.ts";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { loadConfig } from "../../src/config/config.ts";
import { startGatehouse, type GatehouseServer } from "../../src/server.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
const PASSWORD = "browser-horse-battery-7";
let base = "";
let idp: OidcFixture;
let server: GatehouseServer;
let browser: Browser;
let laptop: BrowserContext;
let phone: BrowserContext;

const shot = (p: Page, name: string) => p.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's WCAG 2 A/AA and best-practice violations on the page, as `rule (impact): n nodes`. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe;
    const r = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} nodes`);
  });
}

beforeAll(async () => {
  await ensureChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  idp = await startOidcProvider({
    redirectUris: [`${base}/oauth/oidc/login/callback`],
    accounts: [{ sub: "olivia", email: "olivia@example.com", name: "Olivia Oauth" }],
  });
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    WEBUI_SECRET_KEY: "browser-test-secret-key-0123456789",
    DATABASE_URL: await freshDatabaseUrl("browser"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("browser"),
    OAUTH_CLIENT_ID: idp.clientId,
    OAUTH_CLIENT_SECRET: idp.clientSecret,
    OPENID_PROVIDER_URL: `${idp.issuer}/.well-known/openid-configuration`,
    OPENID_REDIRECT_URI: `${base}/oauth/oidc/login/callback`,
    OAUTH_PROVIDER_NAME: "Test SSO",
    ENABLE_OAUTH_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
  });
  server = await startGatehouse(config, captureLogger("info").log);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  laptop = await browser.newContext({ viewport: { width: 1280, height: 800 }, userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36" });
  phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1" });
});
afterAll(async () => {
  await browser?.close();
  await server?.shutdown();
  await idp?.stop();
});

describe("sign-in and devices pages in Chromium", () => {
  test("accessibility: the sign-in page with sign-up open has no axe-core violation (WCAG 2.1 A/AA, best practice), desktop and 375 px", async () => {
    // The pages allow no script; axe is injected through the DevTools protocol, in a CSP-bypassing context.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
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
    await shot(page, "auth-signup-open-desktop");
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
    await page.getByLabel("Email", { exact: true }).fill("bea@example.com");
    await page.getByLabel("Password", { exact: true }).fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("The email or password provided is incorrect.");
    await expect(page.getByLabel("Email", { exact: true }).inputValue()).resolves.toBe("bea@example.com");
    await shot(page, "auth-error-phone");
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
    await shot(page, "sessions-desktop");
    await page.setViewportSize({ width: 375, height: 740 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await shot(page, "sessions-375px");
    await page.close();
    const a11y = await browser.newContext({ bypassCSP: true, viewport: { width: 375, height: 740 }, storageState: await laptop.storageState() });
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
    await shot(phonePage, "auth-session-ended-phone");
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
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/auth?notice=signed_out`);
    await page.goto(`${base}/account/sessions`);
    await page.waitForURL(`${base}/auth`);
    await phonePage.close();
    await page.close();
  });

  test("an OAuth error from a callback is shown as text", async () => {
    const page = await laptop.newPage();
    await page.goto(`${base}/auth?error=state_expired_or_used`);
    await expect(page.getByRole("alert").textContent()).resolves.toContain("expired or was already used");
    await page.goto(`${base}/auth?error=${encodeURIComponent("<img src=x onerror=alert(1)>")}`);
    await expect(page.locator("img").count()).resolves.toBe(0);
    await shot(page, "auth-oauth-error-desktop");
    await page.close();
  });
});

describe("OAuth sign-in through the test OpenID provider, in Chromium", () => {
  test("the provider button leads through the provider's login and consent back to Gatehouse, signed in", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/auth`);
    await page.getByRole("link", { name: "Test SSO" }).click();
    await page.waitForURL((u) => u.href.startsWith(idp.issuer));
    await page.locator('input[name="login"]').fill("olivia");
    await page.locator('input[name="password"]').fill("any-password");
    await page.locator('button[type="submit"]').first().click();
    // oidc-provider's dev interactions ask for consent next.
    await page.waitForURL((u) => u.href.startsWith(idp.issuer) && !u.href.includes("login"), { timeout: 15_000 }).catch(() => {});
    if (page.url().startsWith(idp.issuer)) await page.locator('button[type="submit"]').first().click();
    await page.waitForURL(`${base}/auth`);
    await expect(page.getByRole("heading", { name: "You are signed in as Olivia Oauth" }).count()).resolves.toBe(1);
    await shot(page, "auth-signed-in-oauth-desktop");
    await page.getByRole("link", { name: "Your devices" }).click();
    await page.waitForURL(`${base}/account/sessions`);
    await expect(page.locator('li[aria-current="true"]').textContent()).resolves.toContain("single sign-on");
    const cookies = await context.cookies(base);
    expect(cookies.find((c) => c.name === "token")?.httpOnly).toBe(true);
    expect(cookies.find((c) => c.name === "oauth_session_id")?.httpOnly).toBe(true);
    await context.close();
  });
});
