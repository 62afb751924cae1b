import { loadLibc } from "../../libc.ts";

/**
 * Gives the calling thread (a crypto worker) the nice value `nice` — on Linux a thread id
 * passed to setpriority(PRIO_PROCESS) changes that thread alone — so the kernel runs the event
 * loop first when both want a core, while a core nobody else wants still hashes at full speed.
 * Returns the nice value in force, or null where there is no FFI (then nothing changed).
 */
export async function lowerThisThread(nice: number): Promise<number | null> {
  if (nice <= 0) return null;
  const libc = await loadLibc();
  if (!libc) return null;
  const tid = libc.gettid();
  return libc.setThreadNice(tid, nice) ? libc.threadNice(tid) : null;
}
