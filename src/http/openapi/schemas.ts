/**
 * JSON Schemas of Gatehouse's response bodies, published under `components.schemas` of
 * the OpenAPI document. Request bodies come from the routes' own validators.
 */

type Schema = Record<string, unknown>;

const str = { type: "string" } as const;
const int = { type: "integer" } as const;
const nullableInt = { type: ["integer", "null"] } as const;
const bool = { type: "boolean" } as const;
const obj = (properties: Record<string, Schema>, required = Object.keys(properties), extra: Schema = {}): Schema => ({
  type: "object", properties, required, ...extra,
});

/** Every component schema, by name. */
export const SCHEMAS: Record<string, Schema> = {
  Detail: obj({ detail: { type: "string", description: "What went wrong, in words a person can act on; never a secret" } }),
  Status: obj({ status: bool }),
  User: obj({ id: str, email: str, name: str, role: { enum: ["admin", "user", "pending"] }, profile_image_url: str }),
  SessionUser: obj({
    token: { type: "string", description: "The session JWT (also set as the HttpOnly `token` cookie)" },
    token_type: { const: "Bearer" },
    expires_at: { ...nullableInt, description: "Unix seconds; null when tokens never expire (JWT_EXPIRES_IN=-1)" },
    id: str, email: str, name: str, role: { enum: ["admin", "user", "pending"] }, profile_image_url: str,
    permissions: { type: "object" },
  }),
  DeviceSession: obj({
    id: { type: "string", description: "The session's token id (`jti`)" },
    created_at: int, last_seen_at: int, expires_at: nullableInt,
    user_agent: { type: ["string", "null"] }, ip: { type: ["string", "null"] },
    auth_method: { enum: ["password", "signup", "oauth", "trusted_header", "ldap", "api_key", "passkey"] },
    amr: { type: "array", items: str, description: "Authentication methods used: pwd, otp, hwk, oauth, ldap (empty for sessions made before they were recorded)" },
    current: bool,
  }),
  RevokedCount: obj({ status: bool, revoked: int }),
  ApiKey: obj({ api_key: { type: ["string", "null"], description: "`sk-` + 32 hex; null when stored as a digest (shown once, at creation)" }, stored_as: { enum: ["sha256", "plaintext"] } }, ["api_key"]),
  Health: obj({ status: bool }),
  Readiness: obj({ status: bool, checks: { type: "object", additionalProperties: str } }),
  Jwks: obj({ keys: { type: "array", items: { type: "object", required: ["kty"], properties: { kty: str, kid: str, alg: str, use: str } } } }),
  ModelList: obj({ object: { const: "list" }, data: { type: "array", items: { type: "object", required: ["id"], properties: { id: str, object: str, owned_by: str } } } }, ["data"]),
  ChatCompletion: { type: "object", description: "The upstream's OpenAI chat completion, passed through unchanged", properties: { id: str, object: str, choices: { type: "array" }, usage: { type: "object" } } },
  ChatCompletionStream: { type: "string", description: "Server-sent events (`data: {chunk}` … `data: [DONE]`), relayed chunk by chunk" },
  ChatCompletionRequest: {
    type: "object", required: ["model", "messages"],
    properties: { model: str, messages: { type: "array", items: { type: "object" } }, stream: bool },
    description: "An OpenAI chat completion request; forwarded to the upstream byte for byte",
  },
  ModelGrant: obj({ user_id: { type: "string", description: "A user id or `*`" }, model_id: { type: "string", description: "A model id or `*`" }, granted_at: int, granted_by: { type: ["string", "null"] } }),
  Granted: obj({ granted: bool }),
  Revoked: obj({ revoked: bool }),
  UsageRow: obj({
    id: str, user_id: str, model: str, upstream: int, stream: bool,
    prompt_tokens: nullableInt, completion_tokens: nullableInt, started_at: int, duration_ms: int,
    first_byte_ms: nullableInt, upstream_status: nullableInt,
    outcome: { type: "string", description: "ok, client_closed, upstream_error, timeout, …" },
  }),
  ProviderToken: obj({ provider: str, access_token: str, expires_at: int }),
  OAuthSessionsDeleted: obj({ status: bool, deleted: int }),
  // Second factors (issue 18).
  MfaChallenge: obj({
    mfa_required: { const: true },
    mfa_token: { type: "string", description: "Opaque, 5 minutes, single use, bound to this client (with the HttpOnly `gatehouse_mfa` cookie); not a session" },
    methods: { type: "array", items: { enum: ["totp", "recovery_code", "webauthn"] } },
  }),
  TotpEnrolment: obj({ secret: { type: "string", description: "Base32 manual key" }, otpauth_uri: str, qr_svg: { type: "string", description: "The URI as an SVG QR code" } }),
  RecoveryCodes: obj({ recovery_codes: { type: "array", items: str, description: "Ten single-use codes, shown this once" } }),
  Passkey: obj({ id: { type: "string", description: "Credential id (base64url)" }, name: str, created_at: int, last_used_at: nullableInt, backed_up: bool, device_type: { type: ["string", "null"] } }),
  PasskeyRegistered: obj({ passkey: { $ref: "#/components/schemas/Passkey" }, recovery_codes: { type: ["array", "null"], items: str, description: "With the first factor only: ten recovery codes, shown this once" } }),
  WebAuthnOptions: { type: "object", description: "PublicKeyCredentialCreationOptionsJSON / PublicKeyCredentialRequestOptionsJSON for the browser", required: ["challenge"], properties: { challenge: str } },
  MfaFactors: obj({
    policy: { enum: ["off", "optional", "required_for_admins", "required"] },
    required: bool,
    totp: obj({ enabled: bool, pending: bool, created_at: nullableInt }),
    recovery_codes: obj({ remaining: int }),
    passkeys: int,
    methods: { type: "array", items: { enum: ["totp", "recovery_code", "webauthn"] } },
  }),
};

/** A `$ref` to a component schema. */
export function ref(name: keyof typeof SCHEMAS & string): Schema {
  return { $ref: `#/components/schemas/${name}` };
}
