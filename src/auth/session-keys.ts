import type { Config } from "../config/config.ts";
import { generateSigningKey } from "../crypto/jwt/signing-key.ts";
import type { SessionTokenConfig } from "../crypto/jwt/session-jwt.ts";
import { dataFilePath, GENERATED_KEYS_FILE, readSigningKeys, writeSigningKeys } from "../embedded/data-dir.ts";

/**
 * The session-token configuration: HS256 with the secret key (Open WebUI's), or an
 * asymmetric algorithm with `GATEHOUSE_JWT_PRIVATE_KEYS` — or, when none are given, a key
 * generated once into `{dataDir}/jwt-signing-keys.json` (owner-only) and reused.
 */
export async function sessionTokenConfig(config: Config, secretKey: string): Promise<SessionTokenConfig & { generatedKeyFile?: string }> {
  const alg = config.jwt.alg;
  if (alg === "HS256") return { alg, secret: secretKey };
  if (config.jwt.privateKeys.length > 0) return { alg, secret: secretKey, privateKeys: config.jwt.privateKeys };
  let stored = await readSigningKeys(config.server.dataDir);
  if (stored === null || stored.alg !== alg || stored.keys.length === 0) {
    const { privateJwk } = await generateSigningKey(alg);
    stored = { alg, keys: [privateJwk, ...(stored?.alg === alg ? stored.keys : [])] };
    await writeSigningKeys(config.server.dataDir, stored);
  }
  return { alg, secret: secretKey, privateKeys: stored.keys, generatedKeyFile: dataFilePath(config.server.dataDir, GENERATED_KEYS_FILE) };
}
