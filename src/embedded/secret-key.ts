import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Where the generated key lives, as in Open WebUI's start script. */
export const SECRET_KEY_FILE = ".webui_secret_key";

/**
 * Returns the key stored in `{dataDir}/.webui_secret_key`, generating and persisting a
 * random one (readable only by the owner) the first time, so tokens survive restarts.
 */
export async function loadOrCreateSecretKey(dataDir: string): Promise<{ key: string; generated: boolean }> {
  const file = join(dataDir, SECRET_KEY_FILE);
  try {
    const existing = (await readFile(file, "utf8")).trim();
    if (existing !== "") return { key: existing, generated: false };
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOENT") throw e;
  }
  await mkdir(dataDir, { recursive: true });
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const key = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  await writeFile(file, key + "\n", { mode: 0o600, flag: "wx" }).catch(async (e) => {
    // Another process created it first: use theirs.
    if ((e as { code?: string }).code !== "EEXIST") throw e;
  });
  return { key: (await readFile(file, "utf8")).trim(), generated: true };
}
