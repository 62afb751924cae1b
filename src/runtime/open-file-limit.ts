import { loadLibc } from "../libc.ts";

/** What {@link raiseOpenFileLimit} found and did. */
export interface OpenFileLimit {
  /** The soft limit now in force (null: unknown, no FFI). */
  soft: number | null;
  hard: number | null;
  /** The soft limit before, when it was raised. */
  raisedFrom: number | null;
}

/**
 * Raises the soft RLIMIT_NOFILE to the hard limit, so each client stream and its upstream
 * connection have descriptors to spare (Bun already does this itself at start; Deno does not).
 * Without FFI (Deno lacking --allow-ffi, non-Linux) the limit is left and reported unknown:
 * the container entrypoint's `ulimit -n` is then the way to raise it.
 */
export async function raiseOpenFileLimit(): Promise<OpenFileLimit> {
  const libc = await loadLibc();
  const now = libc?.openFileLimit();
  if (!libc || !now) return { soft: null, hard: null, raisedFrom: null };
  const [soft, hard] = now;
  if (soft >= hard || !libc.setOpenFileLimit(hard, hard)) return { soft, hard, raisedFrom: null };
  return { soft: libc.openFileLimit()?.[0] ?? hard, hard, raisedFrom: soft };
}
