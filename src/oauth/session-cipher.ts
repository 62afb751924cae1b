import type { CryptoService } from "../crypto/offload/crypto-service.ts";
import { deriveFernetKey } from "../crypto/fernet.ts";
import { pythonJsonDumps } from "../crypto/python-json.ts";
import { parseTokenDict, type TokenDict } from "./token-dict.ts";

/**
 * Encrypts token dicts into `oauth_session.token` exactly as Open WebUI does (Fernet of
 * Python's `json.dumps`), through the crypto service so the worker-pool policy applies.
 */
export class SessionCipher {
  private constructor(
    private readonly crypto: CryptoService,
    private readonly key: string,
    /** Older keys, tried in order after the current one (during a key rotation). */
    private readonly previous: readonly string[],
  ) {}

  /**
   * Key: `OAUTH_SESSION_TOKEN_ENCRYPTION_KEY` or else `WEBUI_SECRET_KEY`, derived as Open
   * WebUI does; `previousSources` (`GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS`) still decrypt.
   */
  static async create(crypto: CryptoService, keySource: string, previousSources: readonly string[] = []): Promise<SessionCipher> {
    return new SessionCipher(crypto, await deriveFernetKey(keySource), await Promise.all(previousSources.map(deriveFernetKey)));
  }

  encrypt(dict: TokenDict): Promise<string> {
    return this.crypto.run("fernet.encrypt", { key: this.key, plaintext: pythonJsonDumps(dict) });
  }

  /** The dict, or null when the token decrypts with none of the keys or is not a token dict. */
  async decrypt(token: string): Promise<TokenDict | null> {
    for (const key of [this.key, ...this.previous]) {
      try {
        return parseTokenDict(await this.crypto.run("fernet.decrypt", { key, token }));
      } catch (e) {
        if (!String((e as { code?: unknown }).code ?? "").startsWith("ERR_FERNET")) throw e;
      }
    }
    return null;
  }
}
