import { ref } from "./schemas.ts";

/** Who may call a route: sent as the operation's `security`. */
type Access = "public" | "session" | "verified" | "admin";

/** One route's documentation. */
export interface RouteDoc {
  summary: string;
  tag: string;
  access: Access;
  /** The success answer: a schema name, or a bare description (redirects, empty bodies). */
  ok: { status: number; schema?: string; description: string; contentType?: string };
  /** Error statuses this route answers with `{"detail": ...}` beyond the common ones. */
  errors: number[];
  description?: string;
}

const json = (schema: string, description: string, status = 200) => ({ status, schema, description });

/** A SCIM 2.0 route: bearer `SCIM_TOKEN` (not a session), SCIM JSON in and out, errors in SCIM's error schema. */
const scimDoc = (summary: string, status = 200): RouteDoc => ({
  summary, tag: "scim", access: "admin", errors: [400, 401, 403, 404, 409, 413],
  ok: status === 204 ? { status, description: "No content" } : { status, description: "A SCIM resource or ListResponse", contentType: "application/scim+json" },
  description: "Authorization: Bearer SCIM_TOKEN (ENABLE_SCIM). Errors use urn:ietf:params:scim:api:messages:2.0:Error, not `{\"detail\"}`.",
});

/**
 * Every route of the app, keyed `"METHOD /path"` as Elysia registers it. The OpenAPI test
 * fails when a route is missing here or an entry names a route that no longer exists.
 */
export const ROUTE_CATALOG: Record<string, RouteDoc> = {
  "GET /health": { summary: "Process up (Open WebUI's health check)", tag: "health", access: "public", ok: json("Health", "Always true while the process serves"), errors: [] },
  "GET /livez": { summary: "Liveness probe; touches no dependency", tag: "health", access: "public", ok: json("Health", "The process serves"), errors: [] },
  "GET /health/db": { summary: "PostgreSQL answers", tag: "health", access: "public", ok: json("Health", "PostgreSQL answered"), errors: [503] },
  "GET /readyz": { summary: "Readiness: PostgreSQL and the store answer and the process is not draining", tag: "health", access: "public", ok: json("Readiness", "Ready"), errors: [503], description: "503 carries the same body with `status: false` and the failed checks." },
  "GET /metrics": { summary: "Prometheus metrics", tag: "health", access: "public", ok: { status: 200, description: "Prometheus text exposition format", contentType: "text/plain" }, errors: [] },

  "POST /api/v1/auths/signup": { summary: "Sign up (the first user becomes admin; then only with ENABLE_SIGNUP)", tag: "auth", access: "public", ok: json("SessionUser", "Signed up and signed in; sets the `token` cookie"), errors: [400, 403] },
  "POST /api/v1/auths/signin": { summary: "Sign in with email and password (or the trusted email header)", tag: "auth", access: "public", ok: json("SessionUser", "Signed in; sets the `token` cookie"), errors: [400, 429], description: "For a user with a second factor the 200 body is an `MfaChallenge` instead (no session, no `token` cookie); complete it at `POST /api/v1/auths/mfa/verify`." },
  "POST /api/v1/auths/ldap": { summary: "Sign in against the LDAP / Active Directory directory (ENABLE_LDAP)", tag: "auth", access: "public", ok: json("SessionUser", "Signed in; sets the `token` cookie"), errors: [400, 429, 503], description: "Body `{\"user\", \"password\"}`. Every refusal answers 400 `LDAP authentication failed.`; a directory that is down, slow or refusing TLS answers 503 with `Retry-After`." },
  "GET /api/v1/auths/signout": { summary: "Sign out this session (revokes the token on every instance, clears cookies)", tag: "auth", access: "public", ok: json("Status", "Signed out (also when the token was already dead)"), errors: [] },
  "POST /api/v1/auths/signout": { summary: "Sign out this session", tag: "auth", access: "public", ok: json("Status", "Signed out"), errors: [] },
  "POST /api/v1/auths/signout/everywhere": { summary: "Sign out every session of the user, Open WebUI's tokens included", tag: "auth", access: "session", ok: json("Status", "Every token issued until now is refused"), errors: [401, 403] },
  "GET /api/v1/auths/": { summary: "The session user; re-issues the token in its last quarter of life", tag: "auth", access: "session", ok: json("SessionUser", "The user and the (possibly renewed) token"), errors: [401, 403] },
  "POST /api/v1/auths/update/password": { summary: "Change the password; every other session ends", tag: "account", access: "verified", ok: { status: 200, schema: "true", description: "`true`" }, errors: [400, 401, 403] },
  "POST /api/v1/auths/update/profile": { summary: "Change name or profile image", tag: "account", access: "verified", ok: json("User", "The updated user"), errors: [401, 403] },
  "POST /api/v1/auths/add": { summary: "Add a user (admin)", tag: "account", access: "admin", ok: json("User", "The new user"), errors: [400, 401, 403] },

  "GET /api/v1/auths/api_key": { summary: "The user's API key (only when stored in plaintext)", tag: "api-keys", access: "verified", ok: json("ApiKey", "The key, or null with `stored_as: sha256`"), errors: [401, 403, 404] },
  "POST /api/v1/auths/api_key": { summary: "Create (replace) the user's API key; shown once", tag: "api-keys", access: "verified", ok: json("ApiKey", "The new key"), errors: [401, 403] },
  "DELETE /api/v1/auths/api_key": { summary: "Delete the user's API key", tag: "api-keys", access: "verified", ok: { status: 200, schema: "boolean", description: "Whether a key existed" }, errors: [401, 403] },

  "GET /api/v1/auths/sessions": { summary: "The user's live device sessions, the current one marked", tag: "sessions", access: "session", ok: { status: 200, schema: "DeviceSession[]", description: "Newest first" }, errors: [401, 403] },
  "DELETE /api/v1/auths/sessions/:id": { summary: "Revoke one of the user's sessions", tag: "sessions", access: "session", ok: json("Status", "Revoked on every instance within a second"), errors: [401, 403, 404] },
  "DELETE /api/v1/auths/sessions": { summary: "Revoke every session but the current one", tag: "sessions", access: "session", ok: json("RevokedCount", "How many sessions ended"), errors: [401, 403] },
  "GET /api/v1/auths/verify": { summary: "Forward auth for nginx auth_request / Traefik forwardAuth", tag: "sessions", access: "verified", ok: { status: 200, description: "Empty body; the user in `X-User-Id`, `X-User-Email`, `X-User-Name`, `X-User-Role`, `X-User-Groups`, `X-User-MFA` (`true` when the session was made with a second factor or a passkey), `X-Auth-Request-User`, `X-Auth-Request-Email`, `X-Auth-Request-Groups`" }, errors: [401, 403] },
  "GET /.well-known/jwks.json": { summary: "Public keys of asymmetric session tokens", tag: "auth", access: "public", ok: { status: 200, schema: "Jwks", contentType: "application/jwk-set+json", description: "Current keys and retired ones still inside their tokens' lifetime" }, errors: [404], description: "404 while session tokens use HS256 (there is no public key)." },

  "GET /api/v1/auths/mfa": { summary: "The caller's second factors (no secrets)", tag: "mfa", access: "verified", ok: json("MfaFactors", "Factors, recovery codes left, the policy"), errors: [401, 403] },
  "POST /api/v1/auths/mfa/totp/enroll": { summary: "Start TOTP enrolment: secret, otpauth:// URI, QR code (not active until confirmed)", tag: "mfa", access: "verified", ok: json("TotpEnrolment", "Shown once"), errors: [400, 401, 403, 404] },
  "POST /api/v1/auths/mfa/totp/confirm": { summary: "Activate TOTP with a first code; answers the recovery codes", tag: "mfa", access: "verified", ok: json("RecoveryCodes", "TOTP is active"), errors: [400, 401, 403, 404, 429] },
  "DELETE /api/v1/auths/mfa/totp": { summary: "Remove TOTP (needs a current `code` or the `password`)", tag: "mfa", access: "verified", ok: json("Status", "Removed"), errors: [400, 401, 403, 404, 429] },
  "POST /api/v1/auths/mfa/recovery-codes": { summary: "Replace the recovery codes (the old ones stop working)", tag: "mfa", access: "verified", ok: json("RecoveryCodes", "Shown once"), errors: [400, 401, 403, 404] },
  "POST /api/v1/auths/mfa/verify": { summary: "Second sign-in step: `mfa_token` with `code`, `recovery_code` or `webauthn`", tag: "mfa", access: "public", ok: json("SessionUser", "Signed in; sets the `token` cookie"), errors: [400, 401, 404, 429], description: "The `mfa_token` comes from `POST /api/v1/auths/signin` (`mfa_required: true`) and must be sent by the same client (User-Agent and `gatehouse_mfa` cookie)." },

  "GET /api/v1/auths/passkeys": { summary: "The caller's passkeys", tag: "mfa", access: "verified", ok: { status: 200, schema: "Passkey[]", description: "Oldest first" }, errors: [401, 403, 404] },
  "POST /api/v1/auths/passkeys/register/options": { summary: "Options to create a passkey (resident key, user verification preferred)", tag: "mfa", access: "verified", ok: json("WebAuthnOptions", "For navigator.credentials.create; the challenge is single use, 5 minutes"), errors: [401, 403, 404] },
  "POST /api/v1/auths/passkeys/register/verify": { summary: "Store a new passkey from the browser's registration response", tag: "mfa", access: "verified", ok: json("PasskeyRegistered", "Registered"), errors: [400, 401, 403, 404] },
  "POST /api/v1/auths/passkeys/authenticate/options": { summary: "Options to sign in with a passkey (passwordless), or for the second step of an `mfa_token`", tag: "mfa", access: "public", ok: json("WebAuthnOptions", "For navigator.credentials.get"), errors: [401, 404] },
  "POST /api/v1/auths/passkeys/authenticate/verify": { summary: "Passwordless sign-in with a discoverable passkey (user verification required)", tag: "mfa", access: "public", ok: json("SessionUser", "Signed in; sets the `token` cookie"), errors: [400, 404] },
  "PATCH /api/v1/auths/passkeys/:id": { summary: "Rename one of the caller's passkeys", tag: "mfa", access: "verified", ok: json("Status", "Renamed"), errors: [401, 403, 404] },
  "DELETE /api/v1/auths/passkeys/:id": { summary: "Delete one of the caller's passkeys", tag: "mfa", access: "verified", ok: json("Status", "Deleted"), errors: [401, 403, 404] },
  "POST /api/v1/users/:id/mfa/reset": { summary: "Remove a user's second factors and sign them out everywhere (admin)", tag: "users", access: "admin", ok: json("Status", "Factors removed, sessions and API keys revoked"), errors: [401, 404] },
  "POST /api/v1/users/:id/update": { summary: "Change a user's role, profile or password (admin); takes effect on every instance", tag: "users", access: "admin", ok: json("User", "The updated user"), errors: [400, 401, 404] },
  "GET /api/v1/groups/": { summary: "Groups in Open WebUI's shape: all for an admin, the caller's own otherwise", tag: "groups", access: "verified", ok: { status: 200, description: "A list of Open WebUI `GroupResponse` objects (every `group` column plus `member_count`)" }, errors: [401, 403] },

  "GET /api/v1/scim/v2/ServiceProviderConfig": scimDoc("SCIM: what this service provider supports (PATCH, eq filters; no bulk, sort, etag)"),
  "GET /api/v1/scim/v2/ResourceTypes": scimDoc("SCIM: the User and Group resource types"),
  "GET /api/v1/scim/v2/ResourceTypes/:id": scimDoc("SCIM: one resource type"),
  "GET /api/v1/scim/v2/Schemas": scimDoc("SCIM: the User and Group schemas (attributes Gatehouse stores)"),
  "GET /api/v1/scim/v2/Schemas/:id": scimDoc("SCIM: one schema"),
  "GET /api/v1/scim/v2/Users": scimDoc("SCIM: list users (filter `userName|externalId|id|emails.value eq \"…\"`, startIndex, count ≤ 200)"),
  "POST /api/v1/scim/v2/Users": scimDoc("SCIM: provision a user", 201),
  "GET /api/v1/scim/v2/Users/:id": scimDoc("SCIM: one user"),
  "PUT /api/v1/scim/v2/Users/:id": scimDoc("SCIM: replace a user; active:false ends every session of the user"),
  "PATCH /api/v1/scim/v2/Users/:id": scimDoc("SCIM: patch a user (add/replace/remove; Okta's and Entra ID's forms); active:false ends every session"),
  "DELETE /api/v1/scim/v2/Users/:id": scimDoc("SCIM: deprovision and delete a user (every session, key and socket ends first)", 204),
  "GET /api/v1/scim/v2/Groups": scimDoc("SCIM: list groups (filter `displayName|externalId|id eq \"…\"`, excludedAttributes=members)"),
  "POST /api/v1/scim/v2/Groups": scimDoc("SCIM: create a group", 201),
  "GET /api/v1/scim/v2/Groups/:id": scimDoc("SCIM: one group"),
  "PUT /api/v1/scim/v2/Groups/:id": scimDoc("SCIM: replace a group's name and members"),
  "PATCH /api/v1/scim/v2/Groups/:id": scimDoc("SCIM: rename, add, remove or replace members"),
  "DELETE /api/v1/scim/v2/Groups/:id": scimDoc("SCIM: delete a group", 204),
  "DELETE /api/v1/users/:id": { summary: "Delete a user (admin); every token of the user is revoked first", tag: "users", access: "admin", ok: { status: 200, schema: "true", description: "`true`" }, errors: [400, 401, 404] },

  "POST /api/chat/completions": { summary: "OpenAI-compatible chat completion through the gateway (JSON or SSE stream)", tag: "gateway", access: "verified", ok: json("ChatCompletion", "The upstream's answer; with `stream: true`, `text/event-stream`"), errors: [400, 401, 403, 404, 502, 504], description: "No database connection is held while the upstream answers." },
  "POST /v1/chat/completions": { summary: "Same as /api/chat/completions, at the OpenAI path", tag: "gateway", access: "verified", ok: json("ChatCompletion", "The upstream's answer, or an SSE stream"), errors: [400, 401, 403, 404, 502, 504] },
  "GET /api/models": { summary: "Models the user may use, from every upstream", tag: "gateway", access: "verified", ok: json("ModelList", "OpenAI's list shape"), errors: [401, 403, 502] },
  "GET /v1/models": { summary: "Same as /api/models, at the OpenAI path", tag: "gateway", access: "verified", ok: json("ModelList", "OpenAI's list shape"), errors: [401, 403, 502] },
  "GET /api/v1/gateway/model-access": { summary: "Model grants (admin), optionally for one user", tag: "gateway", access: "admin", ok: { status: 200, schema: "ModelGrant[]", description: "Grants, oldest first" }, errors: [401, 422] },
  "POST /api/v1/gateway/model-access": { summary: "Grant a user (or `*`, or `group:{id|name}`) a model (or `*`) (admin)", tag: "gateway", access: "admin", ok: json("Granted", "false when the grant existed"), errors: [401, 422] },
  "DELETE /api/v1/gateway/model-access": { summary: "Withdraw a grant (admin)", tag: "gateway", access: "admin", ok: json("Revoked", "false when there was no such grant"), errors: [401, 422] },
  "GET /api/v1/gateway/usage": { summary: "The user's recent gateway calls", tag: "gateway", access: "verified", ok: { status: 200, schema: "UsageRow[]", description: "Newest first" }, errors: [401, 403, 422] },

  "GET /oauth/:provider/login": { summary: "Start an OAuth / OIDC sign-in (state, nonce, PKCE S256)", tag: "oauth", access: "public", ok: { status: 302, description: "To the provider; errors redirect to `/auth?error=…`" }, errors: [404] },
  "GET /oauth/:provider/login/callback": { summary: "OAuth / OIDC callback: signs in and sets cookies", tag: "oauth", access: "public", ok: { status: 302, description: "To the app, or to `/auth?error=…` when refused" }, errors: [404] },
  "GET /oauth/:provider/callback": { summary: "Legacy callback path (same as /login/callback)", tag: "oauth", access: "public", ok: { status: 302, description: "To the app, or to `/auth?error=…`" }, errors: [404] },
  "GET /api/v1/auths/oauth/token": { summary: "A fresh provider access token for this session (single-flight refresh)", tag: "oauth", access: "session", ok: json("ProviderToken", "A token valid for at least the refresh skew"), errors: [401, 403, 404, 503] },
  "DELETE /api/v1/auths/oauth/sessions/:provider": { summary: "Delete the user's sessions with a provider", tag: "oauth", access: "session", ok: json("OAuthSessionsDeleted", "How many rows were deleted"), errors: [401, 403] },
  "GET /oauth/clients/:client_id/authorize": { summary: "Start authorising an MCP tool server for the user", tag: "oauth", access: "session", ok: { status: 302, description: "To the MCP server's authorisation endpoint" }, errors: [401, 403, 404] },
  "GET /oauth/clients/:client_id/callback": { summary: "MCP authorisation callback", tag: "oauth", access: "session", ok: { status: 302, description: "Back to the app, or to `/auth?error=…`" }, errors: [401, 403, 404] },
  "POST /oauth/backchannel-logout": { summary: "OIDC back-channel logout (ENABLE_OAUTH_BACKCHANNEL_LOGOUT)", tag: "oauth", access: "public", ok: { status: 200, description: "Sessions of the `sub` ended" }, errors: [400, 404], description: "Form body `logout_token=<JWT>`, verified against the provider's keys." },

  "GET /auth": { summary: "Sign-in page (email and password, provider buttons, sign-up when open)", tag: "pages", access: "public", ok: { status: 200, description: "HTML; shows `?error=<code>` from OAuth callbacks", contentType: "text/html" }, errors: [] },
  "POST /auth/signin": { summary: "Sign-in form post", tag: "pages", access: "public", ok: { status: 303, description: "To /account/sessions with the `token` cookie; a refused sign-in re-renders the page with 400/429" }, errors: [403], description: "Form-encoded `email`, `password`. Refused (403) unless sent from a Gatehouse page (`Sec-Fetch-Site: same-origin` or a same-host `Origin`)." },
  "POST /auth/ldap": { summary: "LDAP sign-in form post", tag: "pages", access: "public", ok: { status: 303, description: "To /account/sessions with the `token` cookie; a refused sign-in re-renders the page with 400/429/503" }, errors: [403], description: "Form-encoded `user`, `password`; same-origin only." },
  "POST /auth/signup": { summary: "Sign-up form post", tag: "pages", access: "public", ok: { status: 303, description: "To /account/sessions, signed in" }, errors: [403], description: "Form-encoded `name`, `email`, `password`; same-origin only." },
  "POST /auth/signout": { summary: "Sign-out form post", tag: "pages", access: "public", ok: { status: 303, description: "To /auth, cookies cleared" }, errors: [403] },
  "POST /auth/mfa": { summary: "Second sign-in step form post (code or recovery code)", tag: "pages", access: "public", ok: { status: 303, description: "To /account/sessions with the `token` cookie; a refused code re-renders the step with 400/429" }, errors: [403], description: "Form-encoded `mfa_token` with `code` or `recovery_code`; same-origin only." },
  "GET /account/security": { summary: "Security page: authenticator app (QR code and manual key), recovery codes, passkeys", tag: "pages", access: "session", ok: { status: 200, description: "HTML; without a session, 303 to /auth", contentType: "text/html" }, errors: [] },
  "POST /account/security/totp/enroll": { summary: "Start setting up an authenticator app (form post)", tag: "pages", access: "session", ok: { status: 200, description: "The page with the QR code and the manual key", contentType: "text/html" }, errors: [403] },
  "POST /account/security/totp/confirm": { summary: "Turn the authenticator app on with a first code (form post)", tag: "pages", access: "session", ok: { status: 200, description: "The page with the recovery codes, shown once", contentType: "text/html" }, errors: [403] },
  "POST /account/security/totp/disable": { summary: "Remove the authenticator app with a code or the password (form post)", tag: "pages", access: "session", ok: { status: 303, description: "Back to /account/security" }, errors: [403] },
  "POST /account/security/recovery-codes": { summary: "Make new recovery codes (form post)", tag: "pages", access: "session", ok: { status: 200, description: "The page with the new codes, shown once", contentType: "text/html" }, errors: [403] },
  "POST /account/security/passkeys/:id/rename": { summary: "Rename a passkey (form post)", tag: "pages", access: "session", ok: { status: 303, description: "Back to /account/security" }, errors: [403] },
  "POST /account/security/passkeys/:id/delete": { summary: "Remove a passkey (form post)", tag: "pages", access: "session", ok: { status: 303, description: "Back to /account/security" }, errors: [403] },
  "GET /static/gatehouse-mfa.js": { summary: "The pages' one script (passkeys); the pages' CSP allows exactly this URL", tag: "pages", access: "public", ok: { status: 200, description: "JavaScript", contentType: "text/javascript" }, errors: [] },
  "GET /account/sessions": { summary: "Devices page: the user's sessions, the current one marked", tag: "pages", access: "session", ok: { status: 200, description: "HTML; without a live session, 303 to /auth", contentType: "text/html" }, errors: [] },
  "POST /account/sessions/:id/revoke": { summary: "Revoke one of the user's sessions (form post)", tag: "pages", access: "session", ok: { status: 303, description: "Back to /account/sessions" }, errors: [403] },
  "POST /account/sessions/revoke-others": { summary: "Sign out everywhere else (form post)", tag: "pages", access: "session", ok: { status: 303, description: "Back to /account/sessions" }, errors: [403] },
};

/** Statuses any route may answer: body/header limits, validation, a saturated database or store. */
export const COMMON_ERRORS: Record<number, string> = {
  413: "Request body larger than GATEHOUSE_MAX_BODY_BYTES",
  431: "Request headers larger than GATEHOUSE_MAX_HEADER_BYTES",
  503: "Database pool saturated, store unavailable (GATEHOUSE_REDIS_FAILURE_MODE=closed) or crypto queue full; `Retry-After` says when to retry",
};

/** What each documented error status means. */
export const ERROR_MEANINGS: Record<number, string> = {
  400: "Invalid input; `detail` says which (Open WebUI's wording)",
  401: "Missing, invalid, expired or revoked credentials, or a pending user",
  403: "Not allowed (sign-up closed, API keys disabled, not authenticated, cross-site form post)",
  404: "No such resource (also someone else's session: ids are not to be probed)",
  422: "A field failed validation; `detail` names it",
  429: "Too many failed sign-ins; `Retry-After` says when to retry",
  502: "The upstream failed; `detail` carries its status",
  503: "A dependency is unavailable; `Retry-After` says when to retry",
  504: "The upstream did not answer within GATEHOUSE_UPSTREAM_TIMEOUT_MS",
};

export { ref };
