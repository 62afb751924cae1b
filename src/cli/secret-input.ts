import { usageError } from "./cli-error.ts";

/** A secret from the environment variable `envName`, else the first line of standard input. */
export async function readSecretInput(envName: string): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) throw usageError(`set ${envName} or pipe the value on stdin`);
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  const line = text.split(/\r?\n/)[0] ?? "";
  if (line === "") throw usageError(`no value: set ${envName} or pipe it on stdin`);
  return line;
}
