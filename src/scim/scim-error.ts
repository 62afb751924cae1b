/** The SCIM error schema (RFC 7644 §3.12). */
export const SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

/** RFC 7644 `scimType` values Gatehouse answers with. */
export type ScimType = "invalidFilter" | "invalidSyntax" | "invalidPath" | "invalidValue" | "uniqueness" | "mutability" | "tooMany" | "noTarget";

/** Content type of every SCIM response. */
export const SCIM_CONTENT_TYPE = "application/scim+json";

/**
 * A SCIM failure with its HTTP status; rendered in SCIM's error schema
 * (`{"schemas":[...Error], "status":"400", "scimType":"invalidFilter", "detail":"..."}`).
 * `detail` is written for the client and never echoes a credential.
 */
export class ScimError extends Error {
  readonly code: string;
  constructor(readonly status: number, detail: string, readonly scimType?: ScimType) {
    super(detail);
    this.name = "ScimError";
    this.code = `ERR_SCIM_${status}${scimType ? `_${scimType.toUpperCase()}` : ""}`;
  }

  toResponse(): Response {
    const body: Record<string, unknown> = { schemas: [SCIM_ERROR_SCHEMA], status: String(this.status), detail: this.message };
    if (this.scimType) body["scimType"] = this.scimType;
    const headers: Record<string, string> = { "content-type": SCIM_CONTENT_TYPE };
    if (this.status === 401) headers["www-authenticate"] = 'Bearer realm="scim"';
    return new Response(JSON.stringify(body), { status: this.status, headers });
  }
}

/** 400 `invalidValue`. */
export function invalidValue(detail: string): ScimError {
  return new ScimError(400, detail, "invalidValue");
}
