/**
 * What the browser tests share: a real Gatehouse server on real Postgres and Redis, the test
 * OpenID provider as its OIDC provider, Debian's Chromium, and screenshots in test/artifacts/.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { CHROMIUM, ensureChromium } from "../harness/apt.ts";
import { freePort } from "../harness/services.ts";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { loadConfig } from "../../src/config/config.ts";
import { startGatehouse, type GatehouseServer } from "../../src/server.ts";
import { serveBun } from "../../src/runtime/bun.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The phone the tests hold: an iPhone-sized viewport with Safari's user agent. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true,
  userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
};
/** The laptop: a desktop viewport with Chrome on Linux's user agent. */
export const LAPTOP: BrowserContextOptions = {
  viewport: { width: 1280, height: 800 },
  userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
};

/** A name Chromium resolves to Gatehouse: plain HTTP there is not a secure context, so no `Sec-Fetch-*`. */
const PLAIN_HOST = "gatehouse.test";

/** A running browser test environment. */
export interface BrowserEnv {
  /** Gatehouse's origin, `http://localhost:<port>` (the provider is on 127.0.0.1: another site). */
  base: string;
  /** Gatehouse as `http://gatehouse.test:<port>`: how a plain-HTTP deployment on a LAN name is seen. */
  plainBase: string;
  idp: OidcFixture;
  server: GatehouseServer;
  browser: Browser;
  /** A context whose requests to anything but Gatehouse and the provider are aborted. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Starts the provider, Gatehouse (OIDC sign-in and sign-up enabled; `extraEnv` over that; `{base}` in a value is replaced) and Chromium. */
export async function startBrowserEnv(name: string, extraEnv: Record<string, string> = {}): Promise<BrowserEnv> {
  await ensureChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const idp = await startOidcProvider({
    redirectUris: [`${base}/oauth/oidc/login/callback`],
    accounts: [{ sub: "olivia", email: "olivia@example.com", name: "Olivia Oauth" }],
  });
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    WEBUI_SECRET_KEY: "browser-test-secret-key-0123456789",
    DATABASE_URL: await freshDatabaseUrl(name),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix(name),
    OAUTH_CLIENT_ID: idp.clientId,
    OAUTH_CLIENT_SECRET: idp.clientSecret,
    OPENID_PROVIDER_URL: `${idp.issuer}/.well-known/openid-configuration`,
    OPENID_REDIRECT_URI: `${base}/oauth/oidc/login/callback`,
    OAUTH_PROVIDER_NAME: "Test SSO",
    ENABLE_OAUTH_SIGNUP: "true",
    DEFAULT_USER_ROLE: "user",
    ...Object.fromEntries(Object.entries(extraEnv).map(([k, v]) => [k, v.replaceAll("{base}", base)])),
  });
  const server = await startGatehouse(config, captureLogger("info").log, serveBun);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", `--host-resolver-rules=MAP ${PLAIN_HOST} 127.0.0.1`] });
  const plainBase = `http://${PLAIN_HOST}:${port}`;
  const local = new Set([new URL(base).host, new URL(plainBase).host, new URL(idp.issuer).host]);
  return {
    base, plainBase, idp, server, browser,
    async newContext(options = LAPTOP) {
      const context = await browser.newContext(options);
      // The provider's dev pages @import a web font; no test may depend on the internet.
      await context.route((url) => !local.has(url.host), (route) => route.abort());
      return context;
    },
    async close() {
      await browser.close();
      await server.shutdown();
      await idp.stop();
    },
  };
}

/**
 * Screenshots `page` at 1280 px (`<name>-desktop.png`) and 375 px (`<name>-375px.png`), then
 * restores its viewport. Returns how far the page scrolls sideways at 375 px (0 when it fits).
 */
export async function shots(page: Page, name: string): Promise<number> {
  const before = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `${ARTIFACTS}${name}-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 375, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.screenshot({ path: `${ARTIFACTS}${name}-375px.png`, fullPage: true });
  await page.setViewportSize(before);
  // Let the page lay itself out at the restored size before the test interacts with it again.
  await page.waitForFunction((w) => window.innerWidth === w, before.width);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return overflow;
}

/** axe-core's WCAG 2 A/AA and best-practice violations on the page, as `rule (impact): n nodes`. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe;
    const r = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} nodes`);
  });
}

/** Console errors and uncaught page errors (a CSP refusal shows up here) while `page` is open. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
  page.on("pageerror", (e) => void errors.push(e.message));
  return errors;
}
