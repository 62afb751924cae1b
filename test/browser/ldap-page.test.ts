/**
 * The LDAP form on `/auth` in a real Chromium against a real Gatehouse server and slapd:
 * it is shown under LDAP_SERVER_LABEL, signs in and lands on the devices page (method LDAP),
 * re-renders a refusal with the user kept, passes axe-core, and a form on another site
 * cannot post to it (login CSRF).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { CHROMIUM, ensureChromium } from "../harness/apt.ts";
import { freePort } from "../harness/services.ts";
import { startSlapd, LDAP_APP, LDAP_PEOPLE, LDAP_USERS, type SlapdHandle } from "../harness/slapd.ts";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { loadConfig } from "../../src/config/config.ts";
import { startGatehouse, type GatehouseServer } from "../../src/server.ts";
import { serveBun } from "../../src/runtime/bun.ts";
import { LDAP_AUTH_FAILED } from "../../src/ldap/ldap-errors.ts";
import { axeViolations, LAPTOP, shots } from "./browser-env.ts";

const EVIL = "http://evil.test";
const LABEL = "Example Corp Directory";
let slapd: SlapdHandle;
let server: GatehouseServer;
let browser: Browser;
let context: BrowserContext;
let base = "";

beforeAll(async () => {
  await ensureChromium();
  const port = await freePort();
  base = `http://localhost:${port}`;
  slapd = await startSlapd();
  server = await startGatehouse(loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    WEBUI_SECRET_KEY: "browser-ldap-secret-key-0123456789",
    DATABASE_URL: await freshDatabaseUrl("browser_ldap"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("browser_ldap"),
    ENABLE_LDAP: "true",
    LDAP_SERVER_LABEL: LABEL,
    LDAP_SERVER_HOST: "localhost",
    LDAP_SERVER_PORT: String(slapd.ldapsPort),
    LDAP_USE_TLS: "true",
    LDAP_CA_CERT_FILE: slapd.caFile,
    LDAP_APP_DN: LDAP_APP.dn,
    LDAP_APP_PASSWORD: LDAP_APP.password,
    LDAP_SEARCH_BASE: LDAP_PEOPLE,
  }), captureLogger("info").log, serveBun);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  context = await browser.newContext(LAPTOP);
  const local = new URL(base).host;
  await context.route((url) => url.host !== local && url.origin !== EVIL, (route) => route.abort());
});
afterAll(async () => {
  await browser?.close();
  await server?.shutdown();
  await slapd?.stop();
});

describe("the LDAP form in Chromium", () => {
  test("shown under LDAP_SERVER_LABEL; a wrong password re-renders with the user kept; the right one lands on the devices page", async () => {
    const page = await context.newPage();
    await page.goto(`${base}/auth`);
    await expect(page.getByRole("heading", { name: LABEL }).count()).resolves.toBe(1);
    expect(await shots(page, "auth-ldap")).toBe(0);
    await page.getByLabel("Username", { exact: true }).fill("ada");
    await page.getByLabel("Directory password", { exact: true }).fill("not-it");
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && r.url() === `${base}/auth/ldap`),
      page.getByRole("button", { name: `Sign in with ${LABEL}` }).click(),
    ]);
    expect(refused.status()).toBe(400);
    await expect(page.getByRole("alert").textContent()).resolves.toContain(LDAP_AUTH_FAILED);
    await expect(page.getByLabel("Username", { exact: true }).inputValue()).resolves.toBe("ada");
    await page.getByLabel("Directory password", { exact: true }).fill(LDAP_USERS.ada.password);
    await page.getByRole("button", { name: `Sign in with ${LABEL}` }).click();
    await page.waitForURL(`${base}/account/sessions`);
    await expect(page.getByText("signed in with LDAP").count()).resolves.toBe(1);
    await page.close();
  });

  test("accessibility: no axe-core violation with the LDAP form shown", async () => {
    const axeContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
    const page = await axeContext.newPage();
    await page.goto(`${base}/auth`);
    await expect(page.locator("#ldap-user").count()).resolves.toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await axeContext.close();
  });

  test("a form on another site posting to /auth/ldap (login CSRF) is refused with 403 and sets no cookie", async () => {
    const fresh = await browser.newContext(LAPTOP);
    const form = `<!doctype html><html lang="en"><title>Prize</title>
<form method="post" action="${base}/auth/ldap"><input type="hidden" name="user" value="bob"><input type="hidden" name="password" value="${LDAP_USERS.bob.password}"><button>Claim prize</button></form></html>`;
    await fresh.route(`${EVIL}/**`, (route) => route.fulfill({ contentType: "text/html", body: form }));
    const page = await fresh.newPage();
    await page.goto(`${EVIL}/`);
    const [response] = await Promise.all([page.waitForResponse(`${base}/auth/ldap`), page.getByRole("button", { name: "Claim prize" }).click()]);
    expect(response.status()).toBe(403);
    expect((await fresh.cookies(base)).find((c) => c.name === "token")).toBeUndefined();
    await fresh.close();
  });
});
