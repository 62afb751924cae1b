/** Bounded one-shot commands for the service launcher. */

/** What a finished command printed and how it ended. */
export interface CommandResult {
  /** Exit code; -1 when it was killed (by the timeout or anyone else). */
  code: number;
  /** stdout followed by stderr. */
  out: string;
  /** True when the timeout killed it. */
  timedOut: boolean;
}

/**
 * Runs `cmd` to completion with its output captured, killing it with SIGKILL after
 * `timeoutMs`. Never throws for a non-zero exit; callers decide what a failure means.
 */
export async function runCommand(
  cmd: string[],
  opts: { timeoutMs: number; cwd?: string; env?: Record<string, string | undefined> },
): Promise<CommandResult> {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs);
  try {
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code: proc.signalCode ? -1 : code, out: `${out}${err}`, timedOut };
  } finally {
    clearTimeout(timer);
  }
}
