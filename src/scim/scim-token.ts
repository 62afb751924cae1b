import { ScimError } from "./scim-error.ts";

const encoder = new TextEncoder();

/**
 * Checks the provisioning client's bearer token against `SCIM_TOKEN` in constant time:
 * both sides are MACed with a per-process random key and compared by
 * `crypto.subtle.verify` (DESIGN §2a), so neither the length nor a common prefix of the
 * configured token leaks through timing.
 */
export class ScimTokenVerifier {
  readonly #key: Promise<{ key: CryptoKey; expected: ArrayBuffer } | null>;

  constructor(private readonly enabled: boolean, token: string | null) {
    this.#key = (async () => {
      if (token === null) return null;
      const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
      return { key, expected: await crypto.subtle.sign("HMAC", key, encoder.encode(token)) };
    })();
  }

  /** @throws ScimError 401 (missing, malformed or wrong token) or 403 (SCIM disabled). */
  async check(request: Request): Promise<void> {
    const header = request.headers.get("authorization");
    if (!header) throw new ScimError(401, "Authorization header required");
    const m = /^Bearer[ \t]+(\S{1,4096})[ \t]*$/i.exec(header);
    if (!m) throw new ScimError(401, "Invalid authorization format. Expected: Bearer <token>");
    if (!this.enabled) throw new ScimError(403, "SCIM is not enabled");
    const k = await this.#key;
    const ok = k !== null && (await crypto.subtle.verify("HMAC", k.key, k.expected, encoder.encode(m[1]!)));
    if (!ok) throw new ScimError(401, "Invalid SCIM token");
  }
}
