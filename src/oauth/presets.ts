/**
 * The Google, Microsoft (Entra ID) and GitHub presets, each an `OidcProvider` configured from
 * Open WebUI's variables, with an overridable base URL (national clouds, GitHub Enterprise
 * Server, look-alikes in tests). Google and Microsoft are OpenID providers: discovery, ID-token
 * signature against their JWKS, userinfo, like any other. Microsoft's multi-tenant authorities
 * (`common`, `organizations`) publish a `{tenantid}` issuer template, checked against each
 * token's `tid`. GitHub has no OpenID metadata: fixed endpoints under `GITHUB_BASE_URL`, and the
 * identity from its REST API.
 */
import type { Config } from "../config/config.ts";
import type { CryptoService } from "../crypto/offload/crypto-service.ts";
import { OidcProvider } from "./oidc-provider.ts";
import { OAuthLoginError } from "./oauth-errors.ts";
import { githubIdentity } from "./github-identity.ts";

/** The presets the configuration enables (client id and secret both set). */
export function presetProviders(config: Config, crypto: CryptoService | null = null): OidcProvider[] {
  const { google, microsoft, github, providerTimeoutMs: timeoutMs } = config.oauth;
  const out: OidcProvider[] = [];
  if (google.clientId && google.clientSecret) {
    const hd = google.hostedDomain;
    out.push(new OidcProvider({
      name: "google", providerUrl: google.issuerUrl, clientId: google.clientId, clientSecret: google.clientSecret,
      scopes: google.scopes, redirectUri: google.redirectUri, timeoutMs, crypto,
      ...(hd ? { authParams: { hd }, checkClaims: (c) => checkHostedDomain(c, hd) } : {}),
    }));
  }
  if (microsoft.clientId && microsoft.clientSecret) {
    out.push(new OidcProvider({
      name: "microsoft", providerUrl: `${microsoft.loginBaseUrl}/${encodeURIComponent(microsoft.tenantId)}/v2.0`,
      clientId: microsoft.clientId, clientSecret: microsoft.clientSecret, scopes: microsoft.scopes, redirectUri: microsoft.redirectUri, timeoutMs, crypto,
      tenantTemplatedIssuer: true, checkClaims: checkTenant,
    }));
  }
  if (github.clientId && github.clientSecret) {
    out.push(new OidcProvider({
      name: "github", providerUrl: github.baseUrl, clientId: github.clientId, clientSecret: github.clientSecret,
      scopes: github.scopes, redirectUri: github.redirectUri, timeoutMs, crypto,
      metadata: { issuer: github.baseUrl, authorization_endpoint: `${github.baseUrl}/login/oauth/authorize`, token_endpoint: `${github.baseUrl}/login/oauth/access_token` },
      requireIdToken: false, userinfo: false, clientAuth: "post",
      identity: (token, signal) => githubIdentity(github.apiUrl, token, signal),
    }));
  }
  return out;
}

/** Google: the `hd` request parameter is only a hint; the token's `hd` claim is what counts. */
function checkHostedDomain(claims: Record<string, unknown>, hd: string): void {
  if (typeof claims["hd"] !== "string" || claims["hd"].toLowerCase() !== hd) throw new OAuthLoginError("hosted_domain_mismatch", "not an account of the configured Google Workspace domain");
}

/** Entra ID: the token's issuer names its own tenant (`…/{tid}/v2.0`), fixed tenant or not. */
function checkTenant(claims: Record<string, unknown>): void {
  const tid = claims["tid"];
  if (typeof tid !== "string" || !String(claims["iss"]).endsWith(`/${tid}/v2.0`)) throw new OAuthLoginError("invalid_id_token", "issuer and tenant disagree");
}
