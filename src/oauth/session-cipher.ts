import type { CryptoService } from "../crypto/crypto-service.ts";
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
  ) {}

  /** Key: `OAUTH_SESSION_TOKEN_ENCRYPTION_KEY` or else `WEBUI_SECRET_KEY`, derived as Open WebUI does. */
  static async create(crypto: CryptoService, keySource: string): Promise<SessionCipher> {
    return new SessionCipher(crypto, await deriveFernetKey(keySource));
  }

  encrypt(dict: TokenDict): Promise<string> {
    return this.crypto.run("fernet.encrypt", { key: this.key, plaintext: pythonJsonDumps(dict) });
  }

  /** The dict, or null when the token does not decrypt with this key or is not a token dict. */
  async decrypt(token: string): Promise<TokenDict | null> {
    let text: string;
    try {
      text = await this.crypto.run("fernet.decrypt", { key: this.key, token });
    } catch (e) {
      if (String((e as { code?: unknown }).code ?? "").startsWith("ERR_FERNET")) return null;
      throw e;
    }
    return parseTokenDict(text);
  }
}
