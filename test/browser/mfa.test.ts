/**
 * Second factors in a real Chromium (issue 18): a passkey registered on /account/security with
 * a CDP virtual authenticator (resident keys, user verification), then a passwordless sign-in;
 * the same passkey as the second step after a password; TOTP enrolment reading the manual key
 * from the page and computing codes in the test, then a password sign-in that must pass the
 * second step. axe-core and 375 px on the new pages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { axeViolations, LAPTOP, pageErrors, shots, startBrowserEnv, type BrowserEnv } from "./browser-env.ts";
import { currentStep, freshStep, totpAtStep } from "../helpers/totp.ts";

let env: BrowserEnv;

beforeAll(async () => {
  env = await startBrowserEnv("browser_mfa", { WEBUI_URL: "{base}", ENABLE_SIGNUP: "true" });
});
afterAll(async () => {
  await env?.close();
});

async function signUpThroughPage(page: Page, name: string, email: string, password: string): Promise<void> {
  await page.goto(`${env.base}/auth`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.locator("#signup-email").fill(email);
  await page.locator("#signup-password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${env.base}/account/sessions`);
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await page.waitForURL(/\/auth/);
}

describe("second factors in Chromium", () => {
  test("register a passkey with a virtual authenticator, sign out, sign in without a password; then password + passkey", async () => {
    const context = await env.newContext(LAPTOP);
    const page = await context.newPage();
    const errors = pageErrors(page);
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await signUpThroughPage(page, "Pia Passkey", "pia@example.com", "pia-password-long-1");
    await page.goto(`${env.base}/account/security`);
    const csp = (await page.request.get(`${env.base}/account/security`)).headers()["content-security-policy"];
    expect(csp).toContain(`script-src ${env.base}/static/gatehouse-mfa.js;`);
    await page.getByLabel("Name for a new passkey").fill("Virtual key");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    // The first factor comes with recovery codes, shown once by the script.
    await page.locator("#new-recovery-codes li").first().waitFor();
    expect(await page.locator("#new-recovery-codes li").count()).toBe(10);
    await page.goto(`${env.base}/account/security`);
    await expect(page.locator("[data-passkey] strong").allTextContents()).resolves.toEqual(["Virtual key"]);
    expect(await shots(page, "account-security-passkey")).toBe(0);
    await signOut(page);

    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL(`${env.base}/account/sessions`);
    await expect(page.getByText("signed in with passkey").count()).resolves.toBe(1);

    // The same passkey as the second step after the password. Typing into the email field starts
    // the conditional (autofill) request, which the virtual authenticator would answer at once:
    // it stays unanswered while presence simulation is off, as when a user types instead.
    await signOut(page);
    await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: false });
    await page.locator("#signin-email").fill("pia@example.com");
    await page.locator("#signin-password").fill("pia-password-long-1");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: true });
    await page.getByRole("button", { name: "Use a passkey" }).click();
    await page.waitForURL(`${env.base}/account/sessions`);
    await expect(page.getByText("password + passkey").count()).resolves.toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  test("TOTP: enrol by reading the manual key from the page; a password sign-in then asks for a code", async () => {
    // bypassCSP only so axe-core can be injected; the pages themselves are unchanged.
    const context = await env.newContext({ ...LAPTOP, bypassCSP: true });
    const page = await context.newPage();
    await signUpThroughPage(page, "Tom Totp", "tom@example.com", "tom-password-long-1");
    await page.goto(`${env.base}/account/security`);
    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    const secret = (await page.locator("#totp-secret").textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await page.locator(".qr svg").count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    expect(await shots(page, "account-security-totp-enrol")).toBe(0);
    const step = await freshStep();
    await page.getByLabel("Code from the app").fill(totpAtStep(secret, step - 1));
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.locator("#recovery-codes li").first().waitFor();
    expect(await page.locator("#recovery-codes li").count()).toBe(10);
    expect(await axeViolations(page)).toEqual([]);
    expect(await shots(page, "account-security-recovery-codes")).toBe(0);
    await signOut(page);

    await page.locator("#signin-email").fill("tom@example.com");
    await page.locator("#signin-password").fill("tom-password-long-1");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByLabel("Code from your authenticator app").waitFor();
    expect(page.url()).toBe(`${env.base}/auth/signin`);
    expect((await context.cookies()).some((c) => c.name === "token")).toBe(false);
    expect(await axeViolations(page)).toEqual([]);
    expect(await shots(page, "auth-second-step")).toBe(0);
    // A wrong code first: the step is shown again with the reason.
    await page.getByLabel("Code from your authenticator app").fill(totpAtStep(secret, step - 5));
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("not valid");
    await page.getByLabel("Code from your authenticator app").fill(totpAtStep(secret, Math.max(step, currentStep())));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(`${env.base}/account/sessions`);
    await expect(page.getByText("password + authenticator code").count()).resolves.toBe(1);
    await context.close();
  });
});
