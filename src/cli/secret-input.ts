import { usageError } from "./cli-error.ts";

/**
 * A secret from the flag `--<flagName>`, else the environment variable `envName`, else the
 * first line of standard input. A flag value is accepted with a warning: it stays in shell
 * history and is visible to other local users in the process list while the command runs.
 */
export async function readSecretInput(
  ctx: { args: { flags: Map<string, string | true> }; env: Readonly<Record<string, string | undefined>>; warn(line: string): void },
  flagName: string,
  envName: string,
): Promise<string> {
  const fromFlag = ctx.args.flags.get(flagName);
  if (fromFlag === true || fromFlag === "") throw usageError(`--${flagName} needs a value`);
  if (fromFlag !== undefined) {
    ctx.warn(`gatehouse: warning: --${flagName} stays in shell history and the process list; prefer ${envName} or stdin`);
    return fromFlag;
  }
  const fromEnv = ctx.env[envName];
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) throw usageError(`pass --${flagName}, set ${envName} or pipe the value on stdin`);
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  const line = text.split(/\r?\n/)[0] ?? "";
  if (line === "") throw usageError(`no value: pass --${flagName}, set ${envName} or pipe it on stdin`);
  return line;
}
