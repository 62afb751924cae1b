import { readFile } from "node:fs/promises";
import { fernetDecrypt, fernetEncrypt } from "../crypto/fernet.ts";
import { TotpRepo } from "../db/repos/mfa-totp.ts";
import { MfaKeys } from "../mfa/mfa-keys.ts";
import type { CliCommand } from "./command.ts";
import { CliError } from "./cli-error.ts";

async function decrypts(key: string, token: string): Promise<string | null> {
  return fernetDecrypt(key, token).catch(() => null);
}

/**
 * `rotate-mfa-encryption-key`: re-encrypts every TOTP secret from the previous key(s)
 * (`GATEHOUSE_MFA_PREVIOUS_ENCRYPTION_KEYS`) to the current one (`GATEHOUSE_MFA_ENCRYPTION_KEY`,
 * else derived from `WEBUI_SECRET_KEY`), as `rotate-oauth-encryption-key` does for OAuth
 * sessions. Run it after the servers have the new key and the old ones as previous; each
 * write is a compare-and-swap, so a secret changed meanwhile is left for the next run.
 */
export const rotateMfaKeyCommand: CliCommand = {
  name: "rotate-mfa-encryption-key",
  usage: "rotate-mfa-encryption-key   (keys from GATEHOUSE_MFA_PREVIOUS_ENCRYPTION_KEYS and GATEHOUSE_MFA_ENCRYPTION_KEY / WEBUI_SECRET_KEY)",
  summary: "re-encrypt TOTP secrets from the previous key(s) to the current one",
  async run(ctx) {
    const c = ctx.config;
    const secretKey = c.secretKey ?? (await readFile(`${c.server.dataDir}/.webui_secret_key`, "utf8").then((t) => t.trim() || null, () => null));
    if (c.mfa.encryptionKey === null && secretKey === null) throw new CliError("ERR_CLI_NO_KEY", "no current key: set GATEHOUSE_MFA_ENCRYPTION_KEY (or WEBUI_SECRET_KEY) as the servers have it", 2);
    const toKey = await MfaKeys.currentKey(c.mfa.encryptionKey, secretKey ?? "");
    const fromKeys = (await MfaKeys.previousKeys(c.mfa.previousEncryptionKeys)).filter((k) => k !== toKey);
    if (fromKeys.length === 0) throw new CliError("ERR_CLI_NO_OLD_KEY", "no old key: set GATEHOUSE_MFA_PREVIOUS_ENCRYPTION_KEYS as the servers have it during the rotation", 2);
    const repo = new TotpRepo(await ctx.pool());
    let rotated = 0, alreadyNew = 0, changed = 0;
    const unreadable: string[] = [];
    for (const row of await repo.all()) {
      if ((await decrypts(toKey, row.secret_enc)) !== null) {
        alreadyNew++;
        continue;
      }
      let plain: string | null = null;
      for (const k of fromKeys) if (plain === null) plain = await decrypts(k, row.secret_enc);
      if (plain === null) {
        unreadable.push(row.user_id);
        continue;
      }
      if (await repo.reencrypt(row.user_id, row.secret_enc, await fernetEncrypt(toKey, plain))) rotated++;
      else changed++;
    }
    ctx.out(`re-encrypted ${rotated}, already under the new key ${alreadyNew}, changed meanwhile (run again) ${changed}, unreadable ${unreadable.length}${unreadable.length ? ` (users ${unreadable.slice(0, 20).join(", ")})` : ""}`);
  },
};
