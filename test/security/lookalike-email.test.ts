/**
 * Attack: an account whose email looks like someone else's (an invisible character, a Cyrillic
 * letter, a Cyrillic letter in the domain, the same domain in punycode, full-width letters).
 * Every path that creates or looks up an email canonicalises it (src/auth/email-address.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { serveFreshApp, signUpOk, type ServedApp } from "../helpers/served-app.ts";
import { freePort } from "../harness/services.ts";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { browserLogin } from "../fixtures/oidc-provider-browser.ts";

let s: ServedApp;
let header: ServedApp;
let adminToken = "";

beforeAll(async () => {
  s = await serveFreshApp("sec_lookalike", { ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user" });
  adminToken = (await signUpOk(s, "Admin", "admin@example.com", "admin-password")).token;
  header = await serveFreshApp("sec_lookalike_header", {
    WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email",
    GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1",
  });
});

afterAll(async () => {
  await s?.close();
  await header?.close();
});

const LOOKALIKES: Array<[string, string, RegExp]> = [
  ["a zero-width space", "admin@example.com\u200b", /invisible|format/i],
  ["a Cyrillic а in the local part", "\u0430dmin@example.com", /mix/i],
  ["a Cyrillic е in the domain", "admin@exampl\u0435.com", /mix/i],
  ["that domain in punycode", "admin@xn--exampl-8of.com", /mix/i],
  ["a trailing dot", "admin@example.com.", /format/i],
];

async function detailOf(r: Response): Promise<{ status: number; detail: string }> {
  const body = (await r.json()) as { detail?: unknown };
  return { status: r.status, detail: String(body.detail) };
}

describe("sign-up and admin add refuse look-alikes with 400", () => {
  for (const [what, email, reason] of LOOKALIKES) {
    test(`sign-up: ${what}`, async () => {
      const r = await detailOf(await s.post("/api/v1/auths/signup", { name: "Mallory", email, password: "mallory-password" }));
      expect(r.status).toBe(400);
      expect(r.detail).toMatch(reason);
    });
    test(`admin add: ${what}`, async () => {
      const r = await detailOf(await s.post("/api/v1/auths/add", { name: "Mallory", email, password: "mallory-password", role: "admin" }, adminToken));
      expect(r.status).toBe(400);
      expect(r.detail).toMatch(reason);
    });
  }

  test("full-width letters are the same address (NFKC): sign-up is refused as taken, sign-in finds the account", async () => {
    const fullWidth = "\uff41\uff44\uff4d\uff49\uff4e@example.com";
    const up = await detailOf(await s.post("/api/v1/auths/signup", { name: "Mallory", email: fullWidth, password: "mallory-password" }));
    expect(up.status).toBe(400);
    expect(up.detail).toMatch(/already registered/);
    const r = await s.post("/api/v1/auths/signin", { email: "\uff21\uff24\uff2d\uff29\uff2e@EXAMPLE.COM", password: "admin-password" });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { email: string }).email).toBe("admin@example.com");
  });

  test("an IDN domain is stored and compared in its ASCII form", async () => {
    const created = (await (await s.post("/api/v1/auths/signup", { name: "Idn", email: "idn@B\u00fccher.example", password: "idn-password" })).json()) as { email: string };
    expect(created.email).toBe("idn@xn--bcher-kva.example");
    const again = await detailOf(await s.post("/api/v1/auths/signup", { name: "Idn2", email: "idn@xn--bcher-kva.example", password: "idn-password" }));
    expect(again).toEqual({ status: 400, detail: expect.stringMatching(/already registered/) });
    expect((await s.post("/api/v1/auths/signin", { email: "idn@b\u00fccher.example", password: "idn-password" })).status).toBe(200);
  });

  test("no look-alike account exists afterwards", async () => {
    const sql = postgres(s.dbUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ email: string }[]>`select email from "user" order by email`;
      expect(rows.map((r) => r.email)).toEqual(["admin@example.com", "idn@xn--bcher-kva.example"]);
    } finally {
      await sql.end();
    }
  });
});

test("trusted header: a look-alike email in punycode does not create an account", async () => {
  const signIn = (email: string) =>
    fetch(`${header.base}/api/v1/auths/signin`, { method: "POST", headers: { "content-type": "application/json", "x-forwarded-email": email }, body: JSON.stringify({ email: "", password: "" }) });
  expect((await signIn("admin@example.com")).status).toBe(200);
  const r = await detailOf(await signIn("admin@xn--exampl-8of.com"));
  expect(r.status).toBe(400);
  expect(r.detail).toMatch(/mix/i);
});

describe("OAuth: a provider account with a look-alike email", () => {
  let idp: OidcFixture;
  let o: ServedApp;
  beforeAll(async () => {
    const port = await freePort();
    const callback = `http://127.0.0.1:${port}/oauth/oidc/login/callback`;
    idp = await startOidcProvider({
      redirectUris: [callback],
      accounts: [{ sub: "mallory", email: "\u0430dmin@example.com", name: "Mallory" }],
    });
    o = await serveFreshApp("sec_lookalike_oauth", {
      ENABLE_SIGNUP: "true",
      OAUTH_CLIENT_ID: idp.clientId,
      OAUTH_CLIENT_SECRET: idp.clientSecret,
      OPENID_PROVIDER_URL: `${idp.issuer}/.well-known/openid-configuration`,
      OPENID_REDIRECT_URI: callback,
      ENABLE_OAUTH_SIGNUP: "true",
      DEFAULT_USER_ROLE: "user",
    }, port);
    await signUpOk(o, "Admin", "admin@example.com", "admin-password");
  });
  afterAll(async () => {
    await o?.close();
    await idp?.stop();
  });

  test("is refused at the callback (redirect with an error), and no account is created", async () => {
    const { response } = await browserLogin((path, init) => fetch(`${o.base}${path}`, { ...init, redirect: "manual" }), "mallory");
    expect(response!.status).toBe(302);
    expect(response!.headers.get("location")).toStartWith("/auth?error=");
    const sql = postgres(o.dbUrl, { max: 1, onnotice: () => {} });
    try {
      expect((await sql<{ email: string }[]>`select email from "user"`).map((r) => r.email)).toEqual(["admin@example.com"]);
    } finally {
      await sql.end();
    }
  });
});
