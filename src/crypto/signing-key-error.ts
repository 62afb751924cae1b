/** Stable codes of {@link SigningKeyError}. */
export type SigningKeyErrorCode =
  /** Not a PKCS#8 PEM or JWK for the configured algorithm, or an empty HMAC secret. */
  | "ERR_SIGNING_KEY_INVALID"
  /** No unretired key is left to sign with. */
  | "ERR_SIGNING_KEY_MISSING";

const MESSAGES: Record<SigningKeyErrorCode, string> = {
  ERR_SIGNING_KEY_INVALID: "Signing key is not usable for the configured algorithm",
  ERR_SIGNING_KEY_MISSING: "No active signing key",
};

/**
 * Key configuration is unusable. Raised at startup or rotation, never per request; the message
 * never contains key material (library errors, which might quote it, are not passed on).
 */
export class SigningKeyError extends Error {
  constructor(readonly code: SigningKeyErrorCode = "ERR_SIGNING_KEY_INVALID") {
    super(MESSAGES[code]);
    this.name = "SigningKeyError";
  }
}
