/**
 * Provider metadata and keys over real HTTP: a provider that is down at boot does not stop
 * Gatehouse (its login button answers 503 until it is back); discovery documents and key sets
 * are kept as long as their Cache-Control says; a rotated signing key is picked up on the first
 * unknown `kid`, and further unknown kids within 30 s do not make Gatehouse ask again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { waitFor } from "../helpers/wait.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin, type GatehouseFetch } from "../fixtures/oidc-provider-browser.ts";

const CALLBACK = "http://gatehouse.test/oauth/oidc/login/callback";
const DISCOVERY = "/.well-known/openid-configuration";

// One database for the file: each setup's user has its own email.
let database: Promise<string> | null = null;

/** A provider with `accounts` and a Gatehouse instance on it; `configure` runs before Gatehouse starts. */
function setup(label: string, configure: (idp: OidcFixture) => Promise<void> = async () => {}) {
  const ctx = {} as { idp: OidcFixture; app: TestApp; gh: GatehouseFetch };
  beforeAll(async () => {
    ctx.idp = await startOidcProvider({ redirectUris: [CALLBACK], accounts: [{ sub: "ivy", email: `ivy-${label}@example.com`, name: "Ivy" }] });
    await configure(ctx.idp);
    ctx.app = await startTestApp({
      DATABASE_URL: await (database ??= freshDatabaseUrl("oauth_discovery")),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(`oauth-${label}`),
      OAUTH_CLIENT_ID: ctx.idp.clientId,
      OAUTH_CLIENT_SECRET: ctx.idp.clientSecret,
      OPENID_PROVIDER_URL: ctx.idp.issuer,
      OPENID_REDIRECT_URI: CALLBACK,
      ENABLE_OAUTH_SIGNUP: "true",
      GATEHOUSE_CRYPTO_POLICY: "inline", // no pool calibration at each start: these tests are about OAuth
    });
    ctx.gh = (path, init) => ctx.app.request(path, init);
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.idp?.stop();
  });
  return ctx;
}

const landing = async (gh: GatehouseFetch) => (await browserLogin(gh, "ivy")).response!.headers.get("location");

describe("a provider down at boot", () => {
  const ctx = setup("down_at_boot", (idp) => idp.stop());

  test("Gatehouse starts; the login button answers 503 with a clear detail until the provider is back, then the login works", async () => {
    expect((await ctx.gh("/health")).status).toBe(200);
    const r = await ctx.gh("/oauth/oidc/login");
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("5");
    expect(((await r.json()) as { detail: string }).detail).toBe('The identity provider "oidc" is unavailable; try again later.');
    expect((await ctx.gh("/oauth/oidc/login")).status).toBe(503); // within the failure backoff: answered from memory

    await ctx.idp.start();
    await waitFor("the login button works again", async () => (await ctx.gh("/oauth/oidc/login")).status === 302, 10_000, 200);
    expect(await landing(ctx.gh)).toBe("/auth");
  });
});

describe("discovery and key set cached by their HTTP cache headers", () => {
  const ctx = setup("cache_headers", async (idp) => {
    idp.cacheControl = { discovery: "public, max-age=1", jwks: "public, max-age=1" };
  });

  test("within max-age both are reused; after it both are fetched again", async () => {
    expect(await landing(ctx.gh)).toBe("/auth");
    expect(await landing(ctx.gh)).toBe("/auth");
    expect([ctx.idp.requests[DISCOVERY], ctx.idp.requests["/jwks"]]).toEqual([1, 1]);
    await Bun.sleep(1_100); // past max-age=1
    expect(await landing(ctx.gh)).toBe("/auth");
    expect([ctx.idp.requests[DISCOVERY], ctx.idp.requests["/jwks"]]).toEqual([2, 2]);
  });
});

describe("signing key rotation at the provider", () => {
  const ctx = setup("key_rotation");
  afterAll(() => {
    ctx.idp.tamper = null;
  });

  test("a new kid refetches the key set once; an unknown kid right after is refused without asking again", async () => {
    expect(await landing(ctx.gh)).toBe("/auth");
    expect(ctx.idp.requests["/jwks"]).toBe(1);
    await ctx.idp.rotateSigningKey();
    expect(await landing(ctx.gh)).toBe("/auth");
    expect(ctx.idp.requests["/jwks"]).toBe(2);
    expect(await landing(ctx.gh)).toBe("/auth"); // the new key is now cached
    expect(ctx.idp.requests["/jwks"]).toBe(2);

    ctx.idp.tamper = "unknown-kid";
    for (let i = 0; i < 3; i++) expect(await landing(ctx.gh)).toBe("/auth?error=invalid_id_token_signature");
    expect(ctx.idp.requests["/jwks"]).toBe(2); // rate-limited: at most one forced refetch per 30 s
  });
});
