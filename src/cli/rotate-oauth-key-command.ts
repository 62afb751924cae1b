import { readFile } from "node:fs/promises";
import { deriveFernetKey } from "../crypto/fernet.ts";
import { rotateOAuthEncryptionKey } from "../oauth/encryption-key-rotation.ts";
import { intFlag, type CliCommand } from "./command.ts";
import type { CliContext } from "./cli-context.ts";
import { CliError } from "./cli-error.ts";

/** The current key source as the server derives it: the OAuth key, else the secret key (set or generated). */
async function currentKeySource(ctx: CliContext): Promise<string> {
  const c = ctx.config;
  if (c.oauth.sessionEncryptionKey) return c.oauth.sessionEncryptionKey;
  if (c.secretKey) return c.secretKey;
  try {
    return (await readFile(`${c.server.dataDir}/.webui_secret_key`, "utf8")).trim();
  } catch {
    throw new CliError("ERR_CLI_NO_KEY", "no new key: set OAUTH_SESSION_TOKEN_ENCRYPTION_KEY (or WEBUI_SECRET_KEY) as the servers have it", 2);
  }
}

/**
 * `rotate-oauth-encryption-key`: re-encrypts every `oauth_session` row from the keys in
 * `GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS` to the current key. Keys come from the
 * environment, never from flags (shell history). Run it after the servers already have the
 * new key and the old one as previous (they read both meanwhile); rerun until it reports 0 left.
 */
export const rotateOAuthKeyCommand: CliCommand = {
  name: "rotate-oauth-encryption-key",
  usage: "rotate-oauth-encryption-key [--batch-size 500] [--limit N]   (new key: OAUTH_SESSION_TOKEN_ENCRYPTION_KEY; old: GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS)",
  summary: "re-encrypt oauth_session rows from the previous key(s) to the current one, in resumable batches",
  async run(ctx) {
    const previous = ctx.config.oauth.previousSessionEncryptionKeys;
    if (previous.length === 0) {
      throw new CliError("ERR_CLI_NO_OLD_KEY", "GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS is empty: set it to the old key(s), and OAUTH_SESSION_TOKEN_ENCRYPTION_KEY to the new one", 2);
    }
    const toKey = await deriveFernetKey(await currentKeySource(ctx));
    const fromKeys = (await Promise.all(previous.map(deriveFernetKey))).filter((k) => k !== toKey);
    if (fromKeys.length === 0) throw new CliError("ERR_CLI_SAME_KEY", "the previous key is the current key: nothing to rotate", 2);
    const limit = ctx.args.flags.has("limit") ? intFlag(ctx, "limit", 1) : undefined;
    const started = performance.now();
    const report = await rotateOAuthEncryptionKey(await ctx.pool(), {
      fromKeys, toKey, batchSize: intFlag(ctx, "batch-size", 500), limit,
      onBatch: (r) => ctx.out(`scanned ${r.scanned}: re-encrypted ${r.rotated}, already under the new key ${r.alreadyNew}, unreadable ${r.undecryptable.length}`),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    ctx.out(`done in ${seconds} s: re-encrypted ${report.rotated}, already under the new key ${report.alreadyNew}, retried after concurrent changes ${report.retried}`);
    if (report.undecryptable.length > 0) {
      ctx.out(`${report.undecryptable.length} rows decrypt with no key and were left untouched: ${report.undecryptable.slice(0, 20).join(", ")}${report.undecryptable.length > 20 ? ", …" : ""}`);
    }
    if (report.contended.length > 0) {
      ctx.out(`${report.contended.length} rows kept changing while being rotated and were left for the next run: ${report.contended.slice(0, 20).join(", ")}`);
    }
    if (report.stoppedAtLimit || report.contended.length > 0) {
      ctx.out(report.stoppedAtLimit ? `stopped at --limit ${limit}: run the command again to continue` : "run the command again to finish");
      return 3;
    }
    ctx.out("every readable row is under the new key: GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS can be removed from the servers");
    return report.undecryptable.length > 0 ? 1 : 0;
  },
};
