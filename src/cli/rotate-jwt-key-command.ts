import { generateSigningKey } from "../crypto/jwt/signing-key.ts";
import { dataFilePath, GENERATED_KEYS_FILE, readSigningKeys, writePrivateFile, writeSigningKeys } from "../embedded/data-dir.ts";
import { flag, type CliCommand } from "./command.ts";
import { CliError, usageError } from "./cli-error.ts";

type Entry = JsonWebKey | string | { key: JsonWebKey | string; notAfter?: number; staged?: boolean };

const isStaged = (e: Entry) => typeof e === "object" && e !== null && "key" in e && e.staged === true;

/**
 * One step of the two-step rotation, so no instance ever sees a token signed by a key it
 * does not know:
 *  - stage: a new key is added as verification-only (second place, marked `staged`);
 *  - promote (the next run, after every instance restarted with the staged key): the new key
 *    signs, and the old one is retired with `notAfter` = now + the token lifetime.
 * Expired retired keys are dropped.
 */
export async function rotationStep(alg: Exclude<string, "HS256">, entries: readonly Entry[], lifetimeSeconds: number | null, now = Math.floor(Date.now() / 1000)): Promise<{ entries: Entry[]; step: "staged" | "promoted" }> {
  const live = entries.filter((e) => !(typeof e === "object" && e !== null && "key" in e && e.notAfter !== undefined && e.notAfter < now));
  const stagedIndex = live.findIndex(isStaged);
  if (stagedIndex === -1) {
    const { privateJwk } = await generateSigningKey(alg as "EdDSA");
    return { step: "staged", entries: [live[0]!, { key: privateJwk, staged: true }, ...live.slice(1)] };
  }
  const staged = live[stagedIndex] as { key: JsonWebKey | string };
  const old = live.filter((_, i) => i !== stagedIndex);
  const retire = (e: Entry): Entry => {
    if (typeof e === "object" && e !== null && "key" in e) return e.notAfter !== undefined ? e : { key: e.key, ...(lifetimeSeconds === null ? {} : { notAfter: now + lifetimeSeconds }) };
    return lifetimeSeconds === null ? e : { key: e, notAfter: now + lifetimeSeconds };
  };
  return { step: "promoted", entries: [staged.key, ...old.map(retire)] };
}

/** `rotate-jwt-key`: stages, then (next run) promotes a new asymmetric signing key. */
export const rotateJwtKeyCommand: CliCommand = {
  name: "rotate-jwt-key",
  usage: "rotate-jwt-key [--out <file>]   (run twice: stage, restart every instance, promote, restart)",
  summary: "rotate the asymmetric session-token signing key without signing anyone out",
  async run(ctx) {
    const { alg, privateKeys, expiresInSeconds } = ctx.config.jwt;
    if (alg === "HS256") {
      throw new CliError(
        "ERR_CLI_HS256",
        "GATEHOUSE_JWT_ALG is HS256: tokens are signed with WEBUI_SECRET_KEY, shared with Open WebUI, and changing it signs every user out. " +
          "To rotate without that, switch to an asymmetric algorithm (GATEHOUSE_JWT_ALG=EdDSA) and rotate with this command; or change WEBUI_SECRET_KEY on every Gatehouse and Open WebUI instance at once.",
        2,
      );
    }
    const fromEnv = privateKeys.length > 0;
    const dataDir = ctx.config.server.dataDir;
    const file = dataFilePath(dataDir, GENERATED_KEYS_FILE);
    let entries: Entry[];
    if (fromEnv) {
      entries = [...privateKeys] as Entry[];
    } else {
      try {
        const stored = await readSigningKeys<Entry>(dataDir);
        if (stored === null) throw new Error("no key file");
        if (stored.alg !== alg) throw new CliError("ERR_CLI_ALG_MISMATCH", `${file} holds ${stored.alg} keys but GATEHOUSE_JWT_ALG is ${alg}; start the server once to generate ${alg} keys`, 1);
        entries = stored.keys;
      } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError("ERR_CLI_NO_KEYS", `no key file at ${file}: start Gatehouse once (it generates the first key) or set GATEHOUSE_JWT_PRIVATE_KEYS`, 1);
      }
    }
    const { entries: next, step } = await rotationStep(alg, entries, expiresInSeconds);
    const target = fromEnv ? flag(ctx, "out") : file;
    if (!target) throw usageError("GATEHOUSE_JWT_PRIVATE_KEYS is set: pass --out <file> to receive its new value (it holds private keys, so it is never printed)");
    if (fromEnv) await writePrivateFile(target, JSON.stringify(next));
    else await writeSigningKeys(dataDir, { alg, keys: next });
    if (fromEnv) ctx.out(`wrote the new GATEHOUSE_JWT_PRIVATE_KEYS value to ${target} (owner-only); set it on every instance`);
    else ctx.out(`updated ${target}`);
    ctx.out(step === "staged"
      ? "staged a new key: it verifies but does not sign yet. Restart every instance, then run rotate-jwt-key again to promote it."
      : `promoted the staged key: it signs new tokens; the old key verifies until ${expiresInSeconds === null ? "removed (tokens never expire: remove it by hand when you accept signing those users out)" : new Date((Math.floor(Date.now() / 1000) + expiresInSeconds) * 1000).toISOString()}. Restart every instance.`);
  },
};
