import { deriveFernetKey, fernetDecrypt, fernetEncrypt } from "../crypto/fernet.ts";
import { encodeBase64Url } from "../crypto/base64url.ts";

const encoder = new TextEncoder();

/**
 * The keys second factors are kept under: a Fernet key for TOTP secrets (from
 * `GATEHOUSE_MFA_ENCRYPTION_KEY`, or derived from `WEBUI_SECRET_KEY` with a label of its own
 * so it differs from the OAuth session key) and an HMAC key for recovery-code hashes.
 */
export class MfaKeys {
  readonly #fernet: Promise<string>;
  readonly #previous: Promise<string[]>;
  readonly #hmac: Promise<CryptoKey>;

  /**
   * The Fernet key TOTP secrets are sealed with: `GATEHOUSE_MFA_ENCRYPTION_KEY` as a Fernet key
   * source, else one derived from `WEBUI_SECRET_KEY` under its own label.
   */
  static currentKey(configuredKey: string | null, secretKey: string): Promise<string> {
    return configuredKey !== null ? deriveFernetKey(configuredKey) : labelled("gatehouse-mfa-secrets", secretKey);
  }

  /** The Fernet keys an old key source may stand for: itself as a key source, or an old `WEBUI_SECRET_KEY`'s default. */
  static async previousKeys(sources: readonly string[]): Promise<string[]> {
    return (await Promise.all(sources.map(async (s) => [await deriveFernetKey(s), await labelled("gatehouse-mfa-secrets", s)]))).flat();
  }

  constructor(configuredKey: string | null, secretKey: string, previousSources: readonly string[] = []) {
    this.#fernet = MfaKeys.currentKey(configuredKey, secretKey);
    this.#previous = MfaKeys.previousKeys(previousSources);
    // Recovery-code hashes do not depend on the rotatable Fernet key, so rotation leaves them valid.
    this.#hmac = labelled("gatehouse-mfa-recovery", secretKey).then((k) =>
      crypto.subtle.importKey("raw", encoder.encode(k), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]));
  }

  /** Encrypts a factor secret for storage. */
  async seal(plaintext: string): Promise<string> {
    return fernetEncrypt(await this.#fernet, plaintext);
  }

  /** Decrypts a stored factor secret with the current key, else a previous one (during a rotation). @throws FernetError */
  async open(token: string): Promise<string> {
    try {
      return await fernetDecrypt(await this.#fernet, token);
    } catch (e) {
      for (const key of await this.#previous) {
        try {
          return await fernetDecrypt(key, token);
        } catch { /* the next one */ }
      }
      throw e;
    }
  }

  /** The stored form of a recovery code: hex HMAC-SHA256 (codes carry 60 random bits; tries are rate limited). */
  async hashRecoveryCode(normalised: string): Promise<string> {
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await this.#hmac, encoder.encode(normalised)));
    return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
}

/** A Fernet key derived from the secret key under `label`: base64url(sha256(label NUL secret)), padded. */
async function labelled(label: string, secretKey: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`${label}\0${secretKey}`));
  return encodeBase64Url(new Uint8Array(digest), true);
}
