import { deriveFernetKey } from "../crypto/fernet.ts";
import { readSecretKeyFile } from "../embedded/data-dir.ts";
import { rotateOAuthEncryptionKey } from "../oauth/encryption-key-rotation.ts";
import { fernetKeyList } from "../config/readers.ts";
import { ConfigError } from "../config/errors.ts";
import { flag, intFlag, type CliCommand } from "./command.ts";
import type { CliContext } from "./cli-context.ts";
import { CliError, usageError } from "./cli-error.ts";

/** The key source the servers derive from this environment: the OAuth key, else the secret key (set or generated); null when none. */
async function configuredKeySource(ctx: CliContext): Promise<string | null> {
  const c = ctx.config;
  if (c.oauth.sessionEncryptionKey) return c.oauth.sessionEncryptionKey;
  if (c.secretKey) return c.secretKey;
  return readSecretKeyFile(c.server.dataDir);
}

/** `--from` (comma-separated) or `--to` (one key), checked as the configuration checks the variables. */
function keyFlag(ctx: CliContext, name: "from" | "to"): string[] | undefined {
  const value = flag(ctx, name);
  if (value === undefined) return undefined;
  ctx.warn(`gatehouse: warning: --${name} stays in shell history and the process list; prefer the environment variables`);
  try {
    const keys = fernetKeyList({ v: value }, "v");
    if (name === "to" && keys.length !== 1) throw usageError("--to takes one key (without commas; OAUTH_SESSION_TOKEN_ENCRYPTION_KEY takes any passphrase)");
    return keys;
  } catch (e) {
    if (e instanceof ConfigError) throw usageError(`--${name}: expected ${e.accepts}`);
    throw e;
  }
}

/** The old keys and the new one (Fernet keys), from flags or else the servers' environment. */
async function rotationKeys(ctx: CliContext): Promise<{ fromKeys: string[]; toKey: string }> {
  const configured = await configuredKeySource(ctx);
  const toSource = keyFlag(ctx, "to")?.[0] ?? configured;
  if (toSource === null) throw new CliError("ERR_CLI_NO_KEY", "no new key: set OAUTH_SESSION_TOKEN_ENCRYPTION_KEY (or WEBUI_SECRET_KEY) as the servers have it, or pass --to", 2);
  const toKey = await deriveFernetKey(toSource);
  if (configured !== null && toKey !== (await deriveFernetKey(configured))) {
    // Rows re-encrypted to a key the servers do not have would be unreadable to them.
    throw new CliError("ERR_CLI_KEY_MISMATCH", "--to is not the key this environment gives the servers (OAUTH_SESSION_TOKEN_ENCRYPTION_KEY, else WEBUI_SECRET_KEY): give the servers the new key first, with the old one in GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS, then run this command with their environment", 2);
  }
  const previous = keyFlag(ctx, "from") ?? ctx.config.oauth.previousSessionEncryptionKeys;
  if (previous.length === 0) {
    throw new CliError("ERR_CLI_NO_OLD_KEY", "no old key: set GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS (as the servers have it during the rotation) or pass --from", 2);
  }
  const fromKeys = (await Promise.all(previous.map(deriveFernetKey))).filter((k) => k !== toKey);
  if (fromKeys.length === 0) throw new CliError("ERR_CLI_SAME_KEY", "the old key is the new key: nothing to rotate", 2);
  return { fromKeys, toKey };
}

/**
 * `rotate-oauth-encryption-key`: re-encrypts every `oauth_session` row from the old key(s) to
 * the current key. Keys come from the servers' environment (`GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS`,
 * `OAUTH_SESSION_TOKEN_ENCRYPTION_KEY`) or `--from`/`--to`. Run it after the servers already
 * have the new key and the old one as previous (they read both meanwhile); rerun until it reports 0 left.
 */
export const rotateOAuthKeyCommand: CliCommand = {
  name: "rotate-oauth-encryption-key",
  usage: "rotate-oauth-encryption-key [--batch-size 500] [--limit N] [--from OLD[,OLD2]] [--to NEW]   (else GATEHOUSE_OAUTH_PREVIOUS_ENCRYPTION_KEYS and OAUTH_SESSION_TOKEN_ENCRYPTION_KEY)",
  summary: "re-encrypt oauth_session rows from the previous key(s) to the current one, in resumable batches",
  async run(ctx) {
    const { fromKeys, toKey } = await rotationKeys(ctx);
    const limit = ctx.args.flags.has("limit") ? intFlag(ctx, "limit", 1) : undefined;
    const started = performance.now();
    let batches = 0;
    const report = await rotateOAuthEncryptionKey(await ctx.pool(), {
      fromKeys, toKey, batchSize: intFlag(ctx, "batch-size", 500), limit,
      onBatch: (r) => ctx.out(`batch ${++batches}: scanned ${r.scanned}, re-encrypted ${r.rotated}, already under the new key ${r.alreadyNew}, unreadable ${r.undecryptable.length}`),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    ctx.out(`done in ${seconds} s (${batches} batches): re-encrypted ${report.rotated}, already under the new key ${report.alreadyNew}, retried after concurrent changes ${report.retried}`);
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
