/**
 * Files Gatehouse keeps in its data directory (`GATEHOUSE_DATA_DIR`) on the embedded default:
 * the generated secret key and the generated session-token signing keys. All of them hold
 * secrets, so every file is written owner-only. The one module that touches the file system
 * for them, so auth/ and the CLI do not.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The generated secret key, where Open WebUI's start script keeps it. */
export const SECRET_KEY_FILE = ".webui_secret_key";
/** Generated asymmetric session-token keys (`{alg, keys}`, newest first). */
export const GENERATED_KEYS_FILE = "jwt-signing-keys.json";

/** The path of `name` in `dataDir`. */
export function dataFilePath(dataDir: string, name: string): string {
  return join(dataDir, name);
}

/** Whether `name` exists in `dataDir`. */
export function dataFileExists(dataDir: string, name: string): boolean {
  return existsSync(dataFilePath(dataDir, name));
}

/** The text of `name` in `dataDir`, or null when there is no such file. */
export async function readDataFile(dataDir: string, name: string): Promise<string | null> {
  try {
    return await readFile(dataFilePath(dataDir, name), "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return null;
    throw e;
  }
}

/**
 * Writes `text` to `name` in `dataDir` (created when missing), owner-only. With `exclusive`,
 * an existing file is left alone and false is returned.
 */
export async function writeDataFile(dataDir: string, name: string, text: string, opts: { exclusive?: boolean } = {}): Promise<boolean> {
  await mkdir(dataDir, { recursive: true });
  try {
    await writePrivateFile(dataFilePath(dataDir, name), text, opts.exclusive === true);
    return true;
  } catch (e) {
    if (opts.exclusive && (e as { code?: string }).code === "EEXIST") return false;
    throw e;
  }
}

/** Writes `text` to `path` readable only by the owner (also for files outside the data directory, e.g. the CLI's `--out`). */
export async function writePrivateFile(path: string, text: string, exclusive = false): Promise<void> {
  await writeFile(path, text, { mode: 0o600, flag: exclusive ? "wx" : "w" });
}

/**
 * Returns the key stored in `{dataDir}/.webui_secret_key`, generating and persisting a
 * random one (readable only by the owner) the first time, so tokens survive restarts.
 */
export async function loadOrCreateSecretKey(dataDir: string): Promise<{ key: string; generated: boolean }> {
  const existing = (await readDataFile(dataDir, SECRET_KEY_FILE))?.trim();
  if (existing) return { key: existing, generated: false };
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const key = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  // Another process may create it first: then theirs is used.
  await writeDataFile(dataDir, SECRET_KEY_FILE, key + "\n", { exclusive: true });
  return { key: ((await readDataFile(dataDir, SECRET_KEY_FILE)) ?? "").trim(), generated: true };
}

/** The generated secret key if one exists (the CLI must not create it). */
export async function readSecretKeyFile(dataDir: string): Promise<string | null> {
  return (await readDataFile(dataDir, SECRET_KEY_FILE).catch(() => null))?.trim() || null;
}

/** Generated session-token keys as stored: the algorithm and the private JWKs, newest first. */
export interface StoredSigningKeys<K = JsonWebKey> {
  alg: string;
  keys: K[];
}

/** The stored signing keys, or null when none were generated yet. */
export async function readSigningKeys<K = JsonWebKey>(dataDir: string): Promise<StoredSigningKeys<K> | null> {
  const text = await readDataFile(dataDir, GENERATED_KEYS_FILE);
  return text === null ? null : (JSON.parse(text) as StoredSigningKeys<K>);
}

/** Stores the signing keys (owner-only). */
export async function writeSigningKeys<K>(dataDir: string, stored: StoredSigningKeys<K>): Promise<void> {
  await writeDataFile(dataDir, GENERATED_KEYS_FILE, JSON.stringify(stored) + "\n");
}
