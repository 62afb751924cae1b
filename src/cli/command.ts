import type { CliContext } from "./cli-context.ts";
import { usageError } from "./cli-error.ts";

/** One `gatehouse <command>`. */
export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  /** Resolves with the exit code (0 when omitted). */
  run(ctx: CliContext): Promise<number | void>;
}

/** A flag's string value; `required` turns absence into a usage error naming it. */
export function flag(ctx: CliContext, name: string, required: true): string;
export function flag(ctx: CliContext, name: string, required?: false): string | undefined;
export function flag(ctx: CliContext, name: string, required = false): string | undefined {
  const v = ctx.args.flags.get(name);
  if (v === true) throw usageError(`--${name} needs a value`);
  if (v === undefined && required) throw usageError(`--${name} is required`);
  return v;
}

/** A positive integer flag with a default. */
export function intFlag(ctx: CliContext, name: string, fallback: number): number {
  const v = flag(ctx, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw usageError(`--${name} must be a positive integer`);
  return n;
}

/** The n-th positional argument, or a usage error naming it. */
export function positional(ctx: CliContext, index: number, name: string): string {
  const v = ctx.args.positionals[index];
  if (v === undefined || v === "") throw usageError(`missing <${name}>`);
  return v;
}
