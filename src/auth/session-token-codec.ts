import { createSessionTokens, type SessionKeys, type SessionTokenConfig } from "../crypto/jwt/session-jwt.ts";
import type { CryptoService } from "../crypto/offload/crypto-service.ts";
import { KeyRing } from "../crypto/jwt/key-ring.ts";
import type { SessionTokenCodec } from "./session-tokens.ts";

/**
 * The session-token codec: signing follows the crypto offload policy (RSA signing belongs
 * on the pool); verification runs inline through the verified-token cache, because its
 * main-thread cost is below the pool's round trip for every supported algorithm (bench/).
 */
export async function createSessionTokenCodec(config: SessionTokenConfig, crypto?: CryptoService): Promise<{ codec: SessionTokenCodec; keys: SessionKeys }> {
  const { keys, signer, verifier } = await createSessionTokens(config);
  const pooledSign = crypto !== undefined && crypto.placementOf("jwt.sign") === "pool";
  const signingKey = () => (keys instanceof KeyRing ? keys.current.exportPrivateJwk() : config.secret);
  const codec: SessionTokenCodec = {
    sign: (claims) =>
      pooledSign ? crypto!.run("jwt.sign", { alg: config.alg, key: signingKey(), claims }) : signer.sign(claims),
    verify: (token) => verifier.verify(token),
    cached: (token, nowSeconds) => verifier.cached(token, nowSeconds),
  };
  return { codec, keys };
}
