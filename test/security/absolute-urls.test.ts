import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startOidcProvider, type OidcFixture } from "../fixtures/oidc-provider.ts";
import { signUp, startSecurityServer, type SecurityServer } from "./security-server.ts";

// Hole 11: absolute URLs come from WEBUI_URL, else from an allowed Host, never from whatever Host a client sends.
const GITHUB = { GITHUB_CLIENT_ID: "gh-id", GITHUB_CLIENT_SECRET: "gh-secret" };
const login = (s: SecurityServer, host: string) => fetch(`${s.baseUrl}/oauth/github/login`, { headers: { host }, redirect: "manual" });
const redirectUri = (r: Response) => new URL(r.headers.get("location") ?? "http://none/").searchParams.get("redirect_uri");

describe("WEBUI_URL set", () => {
  let s: SecurityServer;
  let idp: OidcFixture;
  beforeAll(async () => {
    idp = await startOidcProvider({ clientId: "mcp-client", redirectUris: ["https://chat.example.com/oauth/clients/mcp:tools/callback"], accounts: [] });
    s = await startSecurityServer("urls_webui", {
      ...GITHUB, WEBUI_URL: "https://chat.example.com",
      GATEHOUSE_OAUTH_MCP_CLIENTS: JSON.stringify([{ id: "tools", issuer: idp.issuer, client_id: "mcp-client", client_secret: idp.clientSecret, scopes: "openid" }]),
    });
  });
  afterAll(async () => {
    await s.close();
    await idp.stop();
  });

  test("GET /oauth/github/login with Host: evil.example sends GitHub WEBUI_URL's callback", async () => {
    const r = await login(s, "evil.example");
    expect(r.status).toBe(302);
    expect(redirectUri(r)).toBe("https://chat.example.com/oauth/github/login/callback");
  });

  test("the MCP authorize route builds its callback from WEBUI_URL too", async () => {
    const { token } = await signUp(s, "ivy@example.com");
    const r = await fetch(`${s.baseUrl}/oauth/clients/mcp:tools/authorize`, { headers: { host: "evil.example", authorization: `Bearer ${token}` }, redirect: "manual" });
    expect(r.status).toBe(302);
    expect(redirectUri(r)).toBe("https://chat.example.com/oauth/clients/mcp:tools/callback");
  });
});

describe("no WEBUI_URL, GATEHOUSE_ALLOWED_HOSTS=chat.example.com", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("urls_allowed", { ...GITHUB, GATEHOUSE_ALLOWED_HOSTS: "chat.example.com" });
  });
  afterAll(() => s.close());

  test("an allowed Host is used; any other gets 400 {detail}", async () => {
    expect(redirectUri(await login(s, "chat.example.com"))).toBe("http://chat.example.com/oauth/github/login/callback");
    const evil = await login(s, "evil.example");
    expect(evil.status).toBe(400);
    expect(((await evil.json()) as { detail: string }).detail).toContain("Host not allowed");
  });
});

describe("no WEBUI_URL, no allow-list (the default)", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("urls_default", GITHUB);
  });
  afterAll(() => s.close());

  test("only loopback hosts are used (and the boot warned); others get 400", async () => {
    const port = new URL(s.baseUrl).port;
    expect(redirectUri(await login(s, `localhost:${port}`))).toBe(`http://localhost:${port}/oauth/github/login/callback`);
    expect((await login(s, "evil.example")).status).toBe(400);
    expect(s.logText()).toContain("GATEHOUSE_ALLOWED_HOSTS are unset");
  });
});
