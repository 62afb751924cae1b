/** Claims of a Gatehouse / Open WebUI session token. */
export interface TokenClaims {
  id: string;
  exp?: number;
  jti?: string;
  iat?: number;
  /** How the session was made (asymmetric tokens only; HS256 tokens stay Open WebUI's four claims). */
  amr?: readonly string[];
}

/**
 * Signs and verifies session tokens. The implementation (src/crypto) decides the algorithm
 * and where the work runs; `verify` throws an error with a `code` starting `ERR_TOKEN_`
 * for anything it refuses.
 */
export interface SessionTokenCodec {
  sign(claims: Required<Pick<TokenClaims, "id" | "jti" | "iat">> & Pick<TokenClaims, "exp" | "amr">): Promise<string>;
  verify(token: string): Promise<TokenClaims>;
  /** The claims of a token verified before and still valid, synchronously; undefined otherwise. */
  cached(token: string, nowSeconds?: number): TokenClaims | undefined;
}

/** Hashes and checks passwords (src/crypto decides where the work runs). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or an unusable hash; never throws for those. */
  verify(password: string, hash: string): Promise<boolean>;
  needsRehash(hash: string): boolean;
  /** Spends the same work as a real verification, for unknown emails. */
  verifyDummy(password: string): Promise<void>;
  /** Whether a verification submitted now starts at once (a free crypto thread, or inline), not behind others. */
  startsNow(): boolean;
}
