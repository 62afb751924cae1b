import { ServiceError } from "../errors.ts";

/**
 * errno codes (and Bun's own names for them) meaning this process or machine ran out of
 * descriptors, ports or buffers: the upstream was never asked, so it is not an upstream failure.
 */
const LOCAL_CODES = new Set([
  "EMFILE", "ENFILE", "EADDRNOTAVAIL", "EADDRINUSE", "ENOBUFS", "ENOMEM",
  "ProcessFdQuotaExceeded", "SystemFdQuotaExceeded", "SystemResources", "AddressNotAvailable",
]);

/** Linux errno numbers of the codes above, as Deno (Rust) writes them in messages: "… (os error 24)". */
const OS_ERRORS: Readonly<Record<string, string>> = { "12": "ENOMEM", "23": "ENFILE", "24": "EMFILE", "98": "EADDRINUSE", "99": "EADDRNOTAVAIL", "105": "ENOBUFS" };

/**
 * The errno name of a local exhaustion in `e` or its causes (Bun sets `code`; Deno's fetch
 * says only "fetch failed", with the OS error in its cause's message), "resource exhaustion"
 * when only the kind is known, or null when `e` is not one.
 */
function localCode(e: unknown): string | null {
  let x = e as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; x && depth < 4; depth++, x = x.cause as typeof x) {
    if (typeof x.code === "string" && LOCAL_CODES.has(x.code)) return x.code;
    if (typeof x.message !== "string") continue;
    const named = /\b(EMFILE|ENFILE|EADDRNOTAVAIL|ENOBUFS)\b|FdQuotaExceeded/.exec(x.message);
    if (named) return named[1] ?? "resource exhaustion";
    const os = OS_ERRORS[/\(os error (\d+)\)/.exec(x.message)?.[1] ?? ""];
    if (os) return os;
  }
  return null;
}

/** True when `e` (a failed fetch/connect) is local resource exhaustion rather than a network or upstream failure. */
export function isLocalExhaustion(e: unknown): boolean {
  return localCode(e) !== null;
}

/** The errno-style name of a local exhaustion, for the detail and logs. */
export function exhaustionCode(e: unknown): string {
  return localCode(e) ?? "resource exhaustion";
}

/** Seconds a client should wait before retrying: descriptors free up as streams end. */
const RETRY_AFTER_SECONDS = 1;

/** This instance has no descriptor or local port left to open the upstream connection: 503, try again shortly. */
export class LocalExhaustionError extends ServiceError {
  constructor(readonly reason: string) {
    super(
      "ERR_LOCAL_EXHAUSTION",
      503,
      `Gatehouse is out of local resources (${reason}: too many open connections on this instance); the LLM upstream was not contacted. Retry shortly`,
      RETRY_AFTER_SECONDS,
    );
  }
}
