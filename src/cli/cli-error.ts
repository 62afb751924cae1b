/** A CLI failure with a stable `code` and the process exit code it maps to (2: usage, 1: failed). */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The usage error: wrong or missing arguments (exit 2). */
export function usageError(message: string): CliError {
  return new CliError("ERR_CLI_USAGE", message, 2);
}
