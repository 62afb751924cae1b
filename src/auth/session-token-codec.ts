import { createSessionTokens, type SessionTokenConfig } from "../crypto/session-jwt.ts";
import type { SessionTokenCodec } from "./session-tokens.ts";

/** The session-token codec for this instance, from src/crypto's signer and caching verifier. */
export async function createSessionTokenCodec(config: SessionTokenConfig): Promise<SessionTokenCodec> {
  const { signer, verifier } = await createSessionTokens(config);
  return {
    sign: (claims) => signer.sign(claims),
    verify: (token) => verifier.verify(token),
    cached: (token) => verifier.cached(token),
  };
}
