/**
 * Google, Microsoft (Entra ID) and GitHub through arctic, behind the same `OAuthProvider` as
 * generic OIDC. Google and Microsoft return an ID token straight from their token endpoint
 * over TLS (OIDC Core §3.1.3.7 allows TLS in place of a signature check there); its `iss`,
 * `aud`, `exp` and `nonce` are still checked. GitHub has no ID token: the identity is its
 * `/user` document with the primary verified email.
 */
import { decodeIdToken, GitHub, Google, MicrosoftEntraId, OAuth2RequestError, type OAuth2Tokens } from "arctic";
import type { ArcticProviderConfig, Config } from "../config/config.ts";
import { OAuthLoginError } from "./oauth-errors.ts";
import { RefreshError, type LoginSecrets, type OAuthProvider, type ProviderLogin } from "./provider.ts";
import type { TokenDict } from "./token-dict.ts";

type Kind = "google" | "microsoft" | "github";

/** One arctic-backed provider; the arctic client is built per call for the request's redirect URI. */
export class ArcticProvider implements OAuthProvider {
  readonly redirectUri: string | null;

  constructor(
    readonly name: Kind,
    private readonly cfg: ArcticProviderConfig & { clientId: string; clientSecret: string; tenantId?: string },
  ) {
    this.redirectUri = cfg.redirectUri;
  }

  #client(redirectUri: string): Google | MicrosoftEntraId | GitHub {
    const c = this.cfg;
    if (this.name === "google") return new Google(c.clientId, c.clientSecret, redirectUri);
    if (this.name === "microsoft") return new MicrosoftEntraId(c.tenantId ?? "common", c.clientId, c.clientSecret, redirectUri);
    return new GitHub(c.clientId, c.clientSecret, redirectUri);
  }

  #scopes(): string[] {
    return this.cfg.scopes.split(/\s+/).filter((s) => s !== "");
  }

  async authorizationUrl(secrets: LoginSecrets): Promise<URL> {
    const client = this.#client(secrets.redirectUri);
    if (client instanceof GitHub) return client.createAuthorizationURL(secrets.state, this.#scopes());
    const url = client.createAuthorizationURL(secrets.state, secrets.codeVerifier, this.#scopes());
    url.searchParams.set("nonce", secrets.nonce);
    return url;
  }

  async exchange(callbackUrl: URL, secrets: LoginSecrets): Promise<ProviderLogin> {
    const q = callbackUrl.searchParams;
    const error = q.get("error");
    if (error) throw new OAuthLoginError(/^[a-z_]{1,64}$/.test(error) ? error : "provider_error", "provider refused the authorization");
    const code = q.get("code");
    if (!code) throw new OAuthLoginError("invalid_callback", "callback without code");
    const client = this.#client(secrets.redirectUri);
    let tokens: OAuth2Tokens;
    try {
      tokens = client instanceof GitHub ? await client.validateAuthorizationCode(code) : await client.validateAuthorizationCode(code, secrets.codeVerifier);
    } catch (e) {
      throw new OAuthLoginError(e instanceof OAuth2RequestError ? "invalid_grant" : "provider_unavailable", "code exchange failed");
    }
    const tokenResponse = { ...(tokens.data as Record<string, unknown>) };
    const claims = client instanceof GitHub ? await githubIdentity(tokens.accessToken()) : this.#idTokenClaims(tokens, secrets.nonce);
    const sub = claims["sub"];
    if (typeof sub !== "string" || sub === "") throw new OAuthLoginError("invalid_id_token", "identity without sub");
    return { tokenResponse, claims, sub };
  }

  #idTokenClaims(tokens: OAuth2Tokens, nonce: string): Record<string, unknown> {
    let claims: Record<string, unknown>;
    try {
      claims = decodeIdToken(tokens.idToken()) as Record<string, unknown>;
    } catch {
      throw new OAuthLoginError("invalid_id_token", "no readable ID token");
    }
    const now = Date.now() / 1000;
    if (claims["nonce"] !== nonce) throw new OAuthLoginError("nonce_mismatch", "nonce mismatch");
    if (typeof claims["exp"] !== "number" || claims["exp"] < now - 30) throw new OAuthLoginError("id_token_expired", "ID token expired");
    const aud = claims["aud"];
    if (!(aud === this.cfg.clientId || (Array.isArray(aud) && aud.includes(this.cfg.clientId)))) throw new OAuthLoginError("invalid_id_token", "wrong audience");
    const iss = String(claims["iss"] ?? "");
    const okIss = this.name === "google" ? /^(https:\/\/)?accounts\.google\.com$/.test(iss) : /^https:\/\/login\.microsoftonline\.com\/[^/]+\/v2\.0$/.test(iss);
    if (!okIss) throw new OAuthLoginError("invalid_id_token", "wrong issuer");
    return claims;
  }

  async refresh(current: TokenDict): Promise<Record<string, unknown>> {
    if (!current.refresh_token) throw new RefreshError("invalid_grant", "no_refresh_token");
    const client = this.#client(this.redirectUri ?? "http://localhost/");
    try {
      const tokens = client instanceof MicrosoftEntraId ? await client.refreshAccessToken(current.refresh_token, this.#scopes()) : await client.refreshAccessToken(current.refresh_token);
      return { ...(tokens.data as Record<string, unknown>) };
    } catch (e) {
      if (e instanceof OAuth2RequestError && e.code === "invalid_grant") throw new RefreshError("invalid_grant", "invalid_grant");
      throw new RefreshError("transient", e instanceof OAuth2RequestError ? "provider_error" : "network");
    }
  }
}

/**
 * GitHub's user document with its primary verified email from `/user/emails` (`email_verified`
 * true); without access to that list (no `user:email` scope) the profile's public email, not
 * asserted verified. `sub` is the numeric id.
 */
async function githubIdentity(accessToken: string): Promise<Record<string, unknown>> {
  const get = async (path: string): Promise<Response> =>
    fetch(`https://api.github.com${path}`, { headers: { authorization: `Bearer ${accessToken}`, accept: "application/vnd.github+json", "user-agent": "gatehouse" }, signal: AbortSignal.timeout(10_000) });
  const userRes = await get("/user");
  if (!userRes.ok) throw new OAuthLoginError("provider_unavailable", "GitHub API refused");
  const user = (await userRes.json()) as Record<string, unknown>;
  if (typeof user !== "object" || user === null || typeof user["id"] !== "number") throw new OAuthLoginError("invalid_id_token", "GitHub user without id");
  const emailsRes = await get("/user/emails");
  const emails: unknown = emailsRes.ok ? await emailsRes.json() : null;
  const primary = Array.isArray(emails)
    ? (emails as unknown[]).find((e): e is { email: string } => typeof e === "object" && e !== null && (e as Record<string, unknown>)["primary"] === true && (e as Record<string, unknown>)["verified"] === true && typeof (e as Record<string, unknown>)["email"] === "string")
    : undefined;
  return {
    sub: String(user["id"]),
    email: primary?.email ?? (typeof user["email"] === "string" ? user["email"] : null),
    email_verified: primary !== undefined,
    name: typeof user["name"] === "string" && user["name"] ? user["name"] : user["login"],
    picture: typeof user["avatar_url"] === "string" ? user["avatar_url"] : undefined,
  };
}

/** The presets the configuration enables (client id and secret both set). */
export function arcticPresets(config: Config): ArcticProvider[] {
  const o = config.oauth;
  const out: ArcticProvider[] = [];
  const add = (name: Kind, c: ArcticProviderConfig & { tenantId?: string }) => {
    if (c.clientId && c.clientSecret) out.push(new ArcticProvider(name, { ...c, clientId: c.clientId, clientSecret: c.clientSecret }));
  };
  add("google", o.google);
  add("microsoft", o.microsoft);
  add("github", o.github);
  return out;
}
