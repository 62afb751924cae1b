import type { TokenDict } from "./token-dict.ts";

/** What the login transaction keeps between `/login` and the callback. */
export interface LoginSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

/** The provider's answer to a successful login: tokens and the validated identity claims. */
export interface ProviderLogin {
  /** The raw token-endpoint response, checked field by field into a dict later. */
  tokenResponse: Record<string, unknown>;
  /**
   * The identity claims the login reads (email, name, picture, roles, groups): the validated
   * ID-token claims merged with the userinfo answer (ID token first, userinfo fills what it
   * lacks), or, for GitHub, its user document.
   */
  claims: Record<string, unknown>;
  /** The provider's subject; empty only for plain OAuth 2 servers without an ID token (MCP). */
  sub: string;
}

/** Raised by `refresh` for the two outcomes callers treat differently. */
export type RefreshFailure = "invalid_grant" | "transient";

/** One sign-in provider (generic OIDC or a preset), all behind the same calls. */
export interface OAuthProvider {
  /** The route and `oauth_session.provider` name: `oidc`, `google`, `microsoft`, `github`. */
  readonly name: string;
  /** The configured redirect URI, or null to derive it from the request origin. */
  readonly redirectUri: string | null;
  authorizationUrl(secrets: LoginSecrets): Promise<URL>;
  /** Exchanges the callback's code; throws `OAuthLoginError` on any refusal. */
  exchange(callbackUrl: URL, secrets: LoginSecrets): Promise<ProviderLogin>;
  /**
   * Refreshes; returns the new token response. Throws `RefreshError` with `failure`
   * `invalid_grant` (the grant is dead) or `transient` (network, timeout, 5xx, anything else).
   */
  refresh(current: TokenDict): Promise<Record<string, unknown>>;
  /**
   * The provider's RP-initiated logout URL (`end_session_endpoint` with `id_token_hint`,
   * `post_logout_redirect_uri`, `state`), or null when it has none; absent for presets without one.
   */
  endSessionUrl?(params: { idTokenHint: string | null; postLogoutRedirectUri: string | null; state: string }): Promise<URL | null>;
  /** Validates a back-channel logout token; absent for providers without one. */
  verifyLogoutToken?(token: string): Promise<{ sub: string | null; sid: string | null; jti: string | null }>;
}

/** A refresh that failed; `failure` decides whether the session survives. */
export class RefreshError extends Error {
  constructor(
    readonly failure: RefreshFailure,
    /** Stable code for logs (`invalid_grant`, `network`, `http_503`, …); never token material. */
    readonly code: string,
  ) {
    super(`refresh failed: ${code}`);
    this.name = "RefreshError";
  }
}
