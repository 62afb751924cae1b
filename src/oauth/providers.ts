import type { Config } from "../config/config.ts";
import type { CryptoService } from "../crypto/offload/crypto-service.ts";
import { OidcProvider } from "./oidc-provider.ts";
import { presetProviders } from "./presets.ts";
import type { OAuthProvider } from "./provider.ts";

/** The providers the configuration enables, by route name (`oidc`, `google`, `microsoft`, `github`). */
export function configuredProviders(config: Config, crypto: CryptoService | null = null): Map<string, OAuthProvider> {
  const o = config.oauth;
  const out = new Map<string, OAuthProvider>();
  if (o.clientId && o.openidProviderUrl) {
    out.set("oidc", new OidcProvider({
      name: "oidc",
      providerUrl: o.openidProviderUrl,
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      scopes: o.scopes,
      redirectUri: o.redirectUri,
      timeoutMs: o.providerTimeoutMs,
      crypto,
    }));
  }
  for (const p of presetProviders(config, crypto)) out.set(p.name, p);
  return out;
}

/** OAuth clients of MCP tool servers, by provider name `mcp:{id}`. */
export function mcpProviders(config: Config, crypto: CryptoService | null = null): Map<string, OAuthProvider> {
  const out = new Map<string, OAuthProvider>();
  for (const c of config.oauth.mcpClients) {
    const name = `mcp:${c.id}`;
    out.set(name, new OidcProvider({
      name,
      providerUrl: c.issuer,
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      scopes: c.scopes,
      redirectUri: null,
      discovery: c.issuer.includes("/.well-known/oauth-authorization-server") ? "oauth2" : "oidc",
      requireIdToken: false,
      userinfo: false,
      timeoutMs: config.oauth.providerTimeoutMs,
      crypto,
    }));
  }
  return out;
}
