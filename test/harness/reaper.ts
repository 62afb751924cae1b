/**
 * A watchdog child that kills the launcher's services once this process is gone, however it
 * ends. `bun test` exits without emitting process "exit", and a crash or SIGKILL runs no
 * handler at all, so cleanup cannot live in this process. The watchdog reads registrations
 * from a pipe; the pipe's EOF is the signal that this process is gone.
 */
import type { Subprocess } from "bun";

// Ignoring INT/TERM/HUP keeps a Ctrl-C (sent to the whole process group) from killing the
// watchdog before the services it guards. Lines: `add SIG PID`, `del PID`, `dir PATH`, `undir PATH`.
const SCRIPT = String.raw`trap '' INT TERM HUP
exec awk '
$1 == "add" { sig[$3] = $2; next }
$1 == "del" { delete sig[$2]; next }
$1 == "dir" { d = substr($0, 5); dirs[d] = 1; next }
$1 == "undir" { d = substr($0, 7); delete dirs[d]; next }
END {
  n = 0
  for (p in sig) { system("kill -" sig[p] " " p " 2>/dev/null"); n++ }
  if (n > 0) system("sleep 1")
  for (d in dirs) system("rm -rf \047" d "\047")
}'`;

let watchdog: Subprocess<"pipe", "ignore", "ignore"> | undefined;

function send(line: string): void {
  try {
    if (!watchdog) {
      watchdog = Bun.spawn(["sh", "-c", SCRIPT], { stdin: "pipe", stdout: "ignore", stderr: "ignore" });
      // Neither the watchdog nor its pipe may keep this process alive.
      watchdog.unref();
      watchdog.stdin.unref();
    }
    watchdog.stdin.write(`${line}\n`);
    void watchdog.stdin.flush();
  } catch {
    // Cleanup on exit is best effort; stop()/stopAll() remain the primary path.
  }
}

/** Has `pid` sent `signal` if this process ends while it is still registered. */
export function guardPid(pid: number, signal: "KILL" | "QUIT" | "TERM"): void {
  send(`add ${signal} ${pid}`);
}

/** Forgets `pid` (it has been stopped), so a later reuse of the number is never signalled. */
export function releasePid(pid: number): void {
  send(`del ${pid}`);
}

/** Has `dir` removed (after the processes are signalled) if this process ends first. */
export function guardDir(dir: string): void {
  if (safeDir(dir)) send(`dir ${dir}`);
}

/** Forgets `dir` (it has been removed). */
export function releaseDir(dir: string): void {
  if (safeDir(dir)) send(`undir ${dir}`);
}

/** The watchdog single-quotes paths for `rm -rf`, so odd ones are left to stopAll(). */
function safeDir(dir: string): boolean {
  return dir.startsWith("/") && !/['\n\\]/.test(dir);
}
