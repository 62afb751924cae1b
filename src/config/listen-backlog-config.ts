import { ConfigError } from "./errors.ts";
import { raw, type Env } from "./readers.ts";

/** `GATEHOUSE_LISTEN_BACKLOG`: an accept-queue cap, `auto` (net.core.somaxconn), or null (leave the runtime's). */
export type ListenBacklogSetting = number | "auto" | null;

const MAX_BACKLOG = 1_048_576;

/**
 * `GATEHOUSE_LISTEN_BACKLOG`: `auto` (default: the kernel's net.core.somaxconn), a number of
 * connections (1–1,048,576; the kernel caps it at somaxconn), or `0`/`off` to keep the backlog
 * the runtime listens with (Bun 512, Deno 511).
 */
export function listenBacklogSetting(env: Env): ListenBacklogSetting {
  const text = raw(env, "GATEHOUSE_LISTEN_BACKLOG")?.toLowerCase();
  if (text === undefined || text === "auto") return "auto";
  if (text === "off" || text === "0") return null;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_BACKLOG)) throw new ConfigError("GATEHOUSE_LISTEN_BACKLOG", `auto, off (or 0), or an integer from 1 to ${MAX_BACKLOG}`);
  return n;
}
