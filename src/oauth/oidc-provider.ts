/**
 * Generic OpenID Connect through oauth4webapi: discovery (cached per instance as long as its
 * HTTP cache headers allow; while the provider is unreachable its login button answers 503, see
 * `cached-document.ts`), authorization URL with state, nonce and PKCE S256, code exchange with
 * ID-token claim validation (`iss`, `aud`, `exp`, `nonce` by oauth4webapi; the signature against
 * the provider's JWKS by the crypto service's `idtoken.verify` op, the key set cached by its
 * headers and refetched early on an unknown `kid`), userinfo, refresh and RP-initiated logout.
 */
import * as oauth from "oauth4webapi";
import type { CryptoService } from "../crypto/offload/crypto-service.ts";
import { IdTokenVerifier } from "./id-token-verifier.ts";
import { CachedDocument, type CachePolicy } from "./cached-document.ts";
import { fetchUserinfo, mergeClaims } from "./userinfo.ts";
import { OAuthLoginError, OAuthProviderUnavailableError } from "./oauth-errors.ts";
import { RefreshError, type LoginSecrets, type OAuthProvider, type ProviderLogin } from "./provider.ts";
import type { TokenDict } from "./token-dict.ts";

/** Settings of one OIDC provider. */
export interface OidcSettings {
  name: string;
  /** `OPENID_PROVIDER_URL`: the issuer or its `/.well-known/openid-configuration` URL. */
  providerUrl: string;
  clientId: string;
  clientSecret: string | null;
  scopes: string;
  redirectUri: string | null;
  /** Per provider request (default 10 s). */
  timeoutMs?: number;
  /** `oidc` (default) or `oauth2` (RFC 8414 metadata, e.g. MCP authorization servers). */
  discovery?: "oidc" | "oauth2";
  /** False for plain OAuth 2 servers (MCP): an ID token is validated when present, not required. */
  requireIdToken?: boolean;
  /** Where signature checks run (offload policy); inline when absent. */
  crypto?: CryptoService | null;
  /** Ask the userinfo endpoint after the ID-token checks (default true; MCP clients need no identity). */
  userinfo?: boolean;
  /** Fixed endpoints instead of discovery (GitHub publishes no metadata). */
  metadata?: oauth.AuthorizationServer;
  /**
   * Microsoft Entra ID: the discovery `issuer` of a multi-tenant authority is a template
   * (`…/{tenantid}/v2.0`), filled from each ID token's `tid` before the `iss` check.
   */
  tenantTemplatedIssuer?: boolean;
  /** How the client authenticates at the token endpoint (default HTTP Basic). */
  clientAuth?: "basic" | "post";
  /** Extra authorization request parameters (Google's `hd`). */
  authParams?: Readonly<Record<string, string>>;
  /** For providers without an ID token: the identity claims (with `sub`) read with the access token. */
  identity?: (accessToken: string, signal: AbortSignal) => Promise<Record<string, unknown>>;
  /** Provider-specific checks of the merged claims; throws `OAuthLoginError`. */
  checkClaims?: (claims: Record<string, unknown>) => void;
}

/** Signature checks against a provider that publishes no key set always fail. */
const NO_JWKS = { verify: () => Promise.reject(new Error("the provider publishes no jwks_uri")) };

/** Discovery documents: as long as their cache headers say (1 s to 24 h; 1 h without headers). */
const DISCOVERY_CACHE_POLICY: CachePolicy = { defaultTtlMs: 3_600_000, minTtlMs: 1_000, maxTtlMs: 86_400_000, failureBackoffMs: 2_000 };

const WELL_KNOWN = /\/\.well-known\/(openid-configuration|oauth-authorization-server)$/;
const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** See the module comment. */
export class OidcProvider implements OAuthProvider {
  readonly name: string;
  readonly redirectUri: string | null;
  readonly #s: OidcSettings;
  readonly #issuer: URL;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  readonly #discovery: CachedDocument<oauth.AuthorizationServer>;
  /** The key set of the current discovery document's `jwks_uri`. */
  #jwks: { uri: string; verifier: IdTokenVerifier } | null = null;

  constructor(s: OidcSettings) {
    this.#s = s;
    this.name = s.name;
    this.redirectUri = s.redirectUri;
    this.#issuer = new URL(s.providerUrl.replace(WELL_KNOWN, ""));
    this.#client = { client_id: s.clientId };
    this.#auth = !s.clientSecret ? oauth.None() : s.clientAuth === "post" ? oauth.ClientSecretPost(s.clientSecret) : oauth.ClientSecretBasic(s.clientSecret);
    this.#discovery = new CachedDocument(async () => {
      if (s.metadata) return { value: s.metadata, response: new Response(null, { headers: { "cache-control": "max-age=86400" } }) };
      const response = await oauth.discoveryRequest(this.#issuer, { ...this.#options(), algorithm: this.#s.discovery ?? "oidc" });
      const as = await oauth.processDiscoveryResponse(s.tenantTemplatedIssuer ? (INTERNALS._nodiscoverycheck as unknown as URL) : this.#issuer, response);
      return { value: s.tenantTemplatedIssuer ? withTenantIssuer(as) : as, response };
    }, DISCOVERY_CACHE_POLICY);
  }

  #options(): { signal: AbortSignal; [oauth.allowInsecureRequests]?: boolean } {
    // Plain http only when the operator configured an http issuer (loopback test providers).
    return { signal: AbortSignal.timeout(this.#s.timeoutMs ?? 10_000), [oauth.allowInsecureRequests]: this.#issuer.protocol === "http:" };
  }

  /** The discovery document (cached, see the module comment) and the key set it names. */
  async #discover(): Promise<{ as: oauth.AuthorizationServer; jwks: Pick<IdTokenVerifier, "verify"> }> {
    const as = await this.#discovery.get();
    if (!as.jwks_uri) return { as, jwks: NO_JWKS };
    if (this.#jwks?.uri !== as.jwks_uri) {
      this.#jwks = { uri: as.jwks_uri, verifier: new IdTokenVerifier(new URL(as.jwks_uri), this.#s.timeoutMs ?? 10_000, this.#s.crypto ?? null) };
    }
    return { as, jwks: this.#jwks.verifier };
  }

  async authorizationUrl(secrets: LoginSecrets): Promise<URL> {
    // Nothing to redirect to yet: the login button answers 503 until the provider is back.
    const { as } = await this.#discover().catch(() => {
      throw new OAuthProviderUnavailableError(this.name);
    });
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set("client_id", this.#s.clientId);
    url.searchParams.set("redirect_uri", secrets.redirectUri);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("scope", this.#s.scopes);
    url.searchParams.set("state", secrets.state);
    url.searchParams.set("nonce", secrets.nonce);
    url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(secrets.codeVerifier));
    url.searchParams.set("code_challenge_method", "S256");
    for (const [k, v] of Object.entries(this.#s.authParams ?? {})) url.searchParams.set(k, v);
    return url;
  }

  async exchange(callbackUrl: URL, secrets: LoginSecrets): Promise<ProviderLogin> {
    const { as, jwks } = await this.#discover().catch(() => {
      throw new OAuthLoginError("provider_unavailable", "discovery failed");
    });
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, this.#client, callbackUrl, secrets.state);
    } catch (e) {
      if (e instanceof oauth.AuthorizationResponseError) throw new OAuthLoginError(safeCode(e.error), "provider refused the authorization");
      throw new OAuthLoginError("invalid_callback", "callback parameters rejected");
    }
    let res: Response;
    try {
      res = await oauth.authorizationCodeGrantRequest(as, this.#client, this.#auth, params, secrets.redirectUri, secrets.codeVerifier, this.#options());
    } catch {
      throw new OAuthLoginError("provider_unavailable", "token endpoint unreachable");
    }
    const body = (await res.clone().json().catch(() => null)) as { id_token?: unknown; error?: unknown } | null;
    // GitHub answers a refused code with 200 and an error body, which oauth4webapi does not look at.
    if (res.ok && typeof body?.error === "string") throw new OAuthLoginError(safeCode(body.error), "token endpoint refused the code");
    // An expected nonce makes oauth4webapi require an ID token: only pass it when one is due or present.
    const idTokenDue = (this.#s.requireIdToken ?? true) || typeof body?.id_token === "string";
    let result: oauth.TokenEndpointResponse;
    try {
      result = await oauth.processAuthorizationCodeResponse(as, this.#client, res, idTokenDue ? { expectedNonce: secrets.nonce, requireIdToken: true } : { requireIdToken: false });
    } catch (e) {
      throw new OAuthLoginError(idTokenErrorCode(e), "token response rejected");
    }
    const tokenResponse = { ...result } as Record<string, unknown>;
    if (result.id_token === undefined) {
      if (!this.#s.identity) return { tokenResponse, claims: {}, sub: "" };
      const claims = await this.#s.identity(result.access_token, this.#options().signal);
      this.#s.checkClaims?.(claims);
      return { tokenResponse, claims, sub: String(claims["sub"]) };
    }
    // oauth4webapi checked `iss` (for a templated issuer: against the token's own tenant).
    const idClaims = oauth.getValidatedIdTokenClaims(result)! as unknown as Record<string, unknown>;
    try {
      await jwks.verify(result.id_token, { issuer: String(idClaims["iss"]), audience: this.#s.clientId });
    } catch {
      throw new OAuthLoginError("invalid_id_token_signature", "ID token signature not valid");
    }
    const sub = idClaims["sub"];
    if (typeof sub !== "string" || sub === "") throw new OAuthLoginError("invalid_id_token", "ID token without sub");
    const useUserinfo = (this.#s.userinfo ?? true) && typeof as.userinfo_endpoint === "string";
    const claims = useUserinfo
      ? mergeClaims(idClaims, await fetchUserinfo({ as, client: this.#client, jwks, options: () => this.#options() }, result.access_token, sub))
      : idClaims;
    this.#s.checkClaims?.(claims);
    return { tokenResponse, claims, sub };
  }

  async refresh(current: TokenDict): Promise<Record<string, unknown>> {
    if (!current.refresh_token) throw new RefreshError("invalid_grant", "no_refresh_token");
    let server: { as: oauth.AuthorizationServer };
    try {
      server = await this.#discover();
    } catch {
      throw new RefreshError("transient", "discovery");
    }
    let res: Response;
    try {
      res = await oauth.refreshTokenGrantRequest(server.as, this.#client, this.#auth, current.refresh_token, this.#options());
    } catch {
      throw new RefreshError("transient", "network");
    }
    if (res.status >= 500) throw new RefreshError("transient", `http_${res.status}`);
    try {
      return { ...(await oauth.processRefreshTokenResponse(server.as, this.#client, res)) } as Record<string, unknown>;
    } catch (e) {
      if (e instanceof oauth.ResponseBodyError && e.error === "invalid_grant") throw new RefreshError("invalid_grant", "invalid_grant");
      throw new RefreshError("transient", e instanceof oauth.ResponseBodyError ? safeCode(e.error) : "invalid_response");
    }
  }

  async endSessionUrl(params: { idTokenHint: string | null; postLogoutRedirectUri: string | null; state: string }): Promise<URL | null> {
    const { as } = await this.#discover();
    if (typeof as.end_session_endpoint !== "string") return null;
    const url = new URL(as.end_session_endpoint);
    if (params.idTokenHint) url.searchParams.set("id_token_hint", params.idTokenHint);
    url.searchParams.set("client_id", this.#s.clientId);
    if (params.postLogoutRedirectUri) url.searchParams.set("post_logout_redirect_uri", params.postLogoutRedirectUri);
    url.searchParams.set("state", params.state);
    return url;
  }

  async verifyLogoutToken(token: string): Promise<{ sub: string | null; sid: string | null; jti: string | null }> {
    const { as, jwks } = await this.#discover();
    const payload = await jwks.verify(token, { issuer: as.issuer, audience: this.#s.clientId, maxTokenAgeSeconds: 600 });
    const events = payload["events"];
    if (typeof events !== "object" || events === null || typeof (events as Record<string, unknown>)[BACKCHANNEL_EVENT] !== "object") {
      throw new Error("logout token without the back-channel logout event");
    }
    if (payload["nonce"] !== undefined) throw new Error("logout token with a nonce");
    if (typeof payload.iat !== "number") throw new Error("logout token without iat");
    const sub = typeof payload.sub === "string" ? payload.sub : null;
    const sid = typeof payload["sid"] === "string" ? (payload["sid"] as string) : null;
    if (sub === null && sid === null) throw new Error("logout token without sub or sid");
    return { sub, sid, jti: typeof payload.jti === "string" ? payload.jti : null };
  }
}

/**
 * oauth4webapi's exported but untyped hooks for multi-tenant issuers (what openid-client, by the
 * same author, uses for Entra ID): skip the discovery issuer comparison; compute the expected `iss`.
 */
const INTERNALS = oauth as unknown as { _nodiscoverycheck: symbol; _expectedIssuer: symbol };

/** A tenant id as Entra ID puts it in `tid` (a GUID); anything else cannot fill the issuer template. */
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Discovery metadata whose `iss` check fills a `{tenantid}` issuer template from the token's `tid`. */
function withTenantIssuer(as: oauth.AuthorizationServer): oauth.AuthorizationServer {
  if (!as.issuer.includes("{tenantid}")) return as;
  const expected = (result: { claims: Record<string, unknown> }) => {
    const tid = result.claims["tid"];
    // A token without a usable tid can match no issuer.
    return typeof tid === "string" && TENANT_ID.test(tid) ? as.issuer.replace("{tenantid}", tid) : "urn:gatehouse:no-tenant";
  };
  return { ...as, [INTERNALS._expectedIssuer]: expected } as oauth.AuthorizationServer;
}

function idTokenErrorCode(e: unknown): string {
  const msg = e instanceof Error ? e.message : "";
  if (e instanceof oauth.ResponseBodyError) return safeCode(e.error);
  if (/nonce/i.test(msg)) return "nonce_mismatch";
  if (/"exp"|expired|timestamp/i.test(msg) || (e as { code?: string }).code === oauth.JWT_TIMESTAMP_CHECK) return "id_token_expired";
  return "invalid_id_token";
}

/** Provider error codes go into a redirect URL: keep them to a safe alphabet. */
function safeCode(code: string): string {
  return /^[a-z0-9_]{1,64}$/i.test(code) ? code : "provider_error";
}
