/**
 * The admin CLI: `npm run gatehouse -- <command>` or `bun src/cli.ts <command>`. Reads the
 * same environment as the server. Output on stdout, errors as one line on stderr.
 * Exit codes: 0 done, 1 failed, 2 usage or configuration error, 3 stopped early (rerun).
 */
import { parseArgs } from "./cli/args.ts";
import { createCliContext, type CliContext } from "./cli/cli-context.ts";
import { CliError } from "./cli/cli-error.ts";
import type { CliCommand } from "./cli/command.ts";
import { ConfigError } from "./config/errors.ts";
import { createAdminCommand } from "./cli/create-admin-command.ts";
import { revokeUserCommand } from "./cli/revoke-user-command.ts";
import { resetMfaCommand } from "./cli/reset-mfa-command.ts";
import { rotateMfaKeyCommand } from "./cli/rotate-mfa-key-command.ts";
import { listSessionsCommand } from "./cli/list-sessions-command.ts";
import { rotateJwtKeyCommand } from "./cli/rotate-jwt-key-command.ts";
import { rotateOAuthKeyCommand } from "./cli/rotate-oauth-key-command.ts";
import { migrateCommand } from "./cli/migrate-command.ts";
import { doctorCommand } from "./cli/doctor-command.ts";

const COMMANDS: readonly CliCommand[] = [
  createAdminCommand, revokeUserCommand, listSessionsCommand, rotateJwtKeyCommand, rotateOAuthKeyCommand, migrateCommand, doctorCommand,
  resetMfaCommand, rotateMfaKeyCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: gatehouse <command> [arguments]   (npm run gatehouse -- <command>)",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Configuration comes from the same environment variables as the server (.env.example).",
    "Without DATABASE_URL, pass --embedded (with Gatehouse stopped) to use the embedded database.",
    "",
    ...COMMANDS.map((c) => `  gatehouse ${c.usage}`),
  ].join("\n");
}

/** Runs one command line; resolves with the exit code. */
export async function runCli(argv: readonly string[], env: Record<string, string | undefined>, out: (l: string) => void, err: (l: string) => void): Promise<number> {
  const args = parseArgs(argv);
  if (args.command === null || args.command === "help" || args.flags.has("help")) {
    out(usage());
    return args.command === null && !args.flags.has("help") ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === args.command);
  if (!command) {
    err(`gatehouse: unknown command '${args.command}'\n\n${usage()}`);
    return 2;
  }
  let ctx: CliContext | undefined;
  try {
    ctx = createCliContext(args, env, out, err);
    return (await command.run(ctx)) ?? 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      if (command === doctorCommand) {
        out(`FAIL configuration: ${e.message}`);
        out(`     fix: set ${e.variable} to ${e.accepts}`);
        return 1;
      }
      err(`gatehouse: configuration error: ${e.message}`);
      return 2;
    }
    if (e instanceof CliError) {
      err(`gatehouse ${command.name}: ${e.message}`);
      return e.exitCode;
    }
    // Typed service errors carry safe messages; anything else is reported by its message only.
    err(`gatehouse ${command.name}: ${(e as Error)?.message ?? String(e)}`);
    return 1;
  } finally {
    await ctx?.close();
  }
}

if (import.meta.main) {
  const code = await runCli(process.argv.slice(2), process.env, (l) => console.log(l), (l) => console.error(l));
  process.exit(code);
}
