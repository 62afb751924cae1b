// Pure tests (no network): provider presets' URLs, configuration, role mapping, token dicts.
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/config.ts";
import { configuredProviders } from "../../src/oauth/providers.ts";
import { claimAt, mapRole } from "../../src/oauth/role-mapping.ts";
import { parseTokenDict, tokenDictFrom } from "../../src/oauth/token-dict.ts";
import { newSessionId } from "../../src/oauth/session-id.ts";
import type { LoginSecrets } from "../../src/oauth/provider.ts";

const secrets: LoginSecrets = { state: "st4te", nonce: "n0nce", codeVerifier: "v".repeat(43), redirectUri: "https://chat.example.com/oauth/x/login/callback" };

describe("provider presets behind OAuthProvider", () => {
  const config = loadConfig({
    WEBUI_SECRET_KEY: "k",
    GOOGLE_CLIENT_ID: "g-id", GOOGLE_CLIENT_SECRET: "g-secret",
    MICROSOFT_CLIENT_ID: "m-id", MICROSOFT_CLIENT_SECRET: "m-secret", MICROSOFT_CLIENT_TENANT_ID: "contoso",
    GITHUB_CLIENT_ID: "gh-id", GITHUB_CLIENT_SECRET: "gh-secret", GITHUB_CLIENT_REDIRECT_URI: "https://chat.example.com/oauth/github/login/callback",
  });
  const providers = configuredProviders(config);

  test("only configured providers are enabled", () => {
    expect([...providers.keys()].sort()).toEqual(["github", "google", "microsoft"]);
    expect(configuredProviders(loadConfig({ WEBUI_SECRET_KEY: "k", GOOGLE_CLIENT_ID: "only-id" })).size).toBe(0);
  });

  test("GitHub: fixed endpoints (no discovery), PKCE S256, default scope user:email, configured redirect", async () => {
    const p = providers.get("github")!;
    expect(p.redirectUri).toBe("https://chat.example.com/oauth/github/login/callback");
    const u = await p.authorizationUrl({ ...secrets, redirectUri: p.redirectUri! });
    expect(u.origin + u.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(Object.fromEntries(u.searchParams)).toMatchObject({ client_id: "gh-id", state: "st4te", scope: "user:email", redirect_uri: p.redirectUri!, code_challenge_method: "S256" });
  });

  test("base URLs: GitHub Enterprise Server and a national Microsoft cloud", async () => {
    const ghes = loadConfig({ WEBUI_SECRET_KEY: "k", GITHUB_CLIENT_ID: "id", GITHUB_CLIENT_SECRET: "s", GITHUB_BASE_URL: "https://ghe.example.com/", GITHUB_API_URL: "https://ghe.example.com/api/v3" });
    const u = await configuredProviders(ghes).get("github")!.authorizationUrl(secrets);
    expect(u.origin + u.pathname).toBe("https://ghe.example.com/login/oauth/authorize");
    expect(ghes.oauth.github.apiUrl).toBe("https://ghe.example.com/api/v3");
    const cloud = loadConfig({ WEBUI_SECRET_KEY: "k", MICROSOFT_CLIENT_LOGIN_BASE_URL: "https://login.microsoftonline.us" });
    expect(cloud.oauth.microsoft.loginBaseUrl).toBe("https://login.microsoftonline.us");
    expect(loadConfig({ WEBUI_SECRET_KEY: "k" }).oauth.google.issuerUrl).toBe("https://accounts.google.com");
  });
});

describe("role mapping", () => {
  const s = { rolesClaim: "realm_access.roles", allowedRoles: ["user", "admin"], adminRoles: ["admin"] };
  test("dotted paths, arrays and strings", () => {
    expect(claimAt({ realm_access: { roles: ["x"] } }, "realm_access.roles")).toEqual(["x"]);
    expect(claimAt({ "realm_access.roles": "flat" }, "realm_access.roles")).toBe("flat");
    expect(mapRole({ realm_access: { roles: ["user", "admin"] } }, s)).toBe("admin");
    expect(mapRole({ realm_access: { roles: "user other" } }, s)).toBe("user");
    expect(mapRole({ realm_access: { roles: [42, { x: 1 }] } }, s)).toBe("pending");
    expect(mapRole({ realm_access: "not-an-object" }, s)).toBe("pending");
  });
});

describe("token dicts", () => {
  test("untrusted responses are checked field by field", () => {
    expect(() => tokenDictFrom({ token_type: "Bearer" }, 0)).toThrow();
    const d = tokenDictFrom({ access_token: "a", expires_in: "soon", nested: { x: 1 }, n: Infinity }, 100);
    expect(d).toEqual({ access_token: "a", expires_in: "soon", expires_at: 3700, issued_at: 100 } as never);
    expect(tokenDictFrom({ access_token: "b", expires_in: 60 }, 0, { ...d, refresh_token: "kept" }).refresh_token).toBe("kept");
  });
  test("parse refuses what is not a token dict", () => {
    expect(parseTokenDict("[]")).toBeNull();
    expect(parseTokenDict('{"access_token": 1, "expires_at": 2}')).toBeNull();
    expect(parseTokenDict('{"access_token": "a"}')).toBeNull();
    expect(parseTokenDict('{"access_token": "a", "expires_at": 4000.5}')).toMatchObject({ expires_at: 4000, issued_at: 400 });
  });
  test("session ids are UUIDv7, ordered by time", () => {
    const a = newSessionId(1_000);
    const b = newSessionId(2_000);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
  });
});
