import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { generateSigningKey } from "../crypto/signing-key.ts";
import type { SessionTokenConfig } from "../crypto/session-jwt.ts";

/** Where generated asymmetric keys are kept on the embedded default. */
export const GENERATED_KEYS_FILE = "jwt-signing-keys.json";

/**
 * The session-token configuration: HS256 with the secret key (Open WebUI's), or an
 * asymmetric algorithm with `GATEHOUSE_JWT_PRIVATE_KEYS` — or, when none are given, a key
 * generated once into `{dataDir}/jwt-signing-keys.json` (owner-only) and reused.
 */
export async function sessionTokenConfig(config: Config, secretKey: string): Promise<SessionTokenConfig & { generatedKeyFile?: string }> {
  const alg = config.jwt.alg;
  if (alg === "HS256") return { alg, secret: secretKey };
  if (config.jwt.privateKeys.length > 0) return { alg, secret: secretKey, privateKeys: config.jwt.privateKeys };
  const file = join(config.server.dataDir, GENERATED_KEYS_FILE);
  let stored: { alg: string; keys: JsonWebKey[] } | null = null;
  try {
    stored = JSON.parse(await readFile(file, "utf8")) as { alg: string; keys: JsonWebKey[] };
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOENT") throw e;
  }
  if (stored === null || stored.alg !== alg || stored.keys.length === 0) {
    const { privateJwk } = await generateSigningKey(alg);
    stored = { alg, keys: [privateJwk, ...(stored?.alg === alg ? stored.keys : [])] };
    await mkdir(config.server.dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(stored) + "\n", { mode: 0o600 });
  }
  return { alg, secret: secretKey, privateKeys: stored.keys, generatedKeyFile: file };
}
