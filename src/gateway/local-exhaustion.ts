import { ServiceError } from "../errors.ts";

/**
 * errno codes (and Bun's own names for them) meaning this process or machine ran out of
 * descriptors, ports or buffers: the upstream was never asked, so it is not an upstream failure.
 */
const LOCAL_CODES = new Set([
  "EMFILE", "ENFILE", "EADDRNOTAVAIL", "EADDRINUSE", "ENOBUFS", "ENOMEM",
  "ProcessFdQuotaExceeded", "SystemFdQuotaExceeded", "SystemResources", "AddressNotAvailable",
]);

/** True when `e` (a failed fetch/connect) is local resource exhaustion rather than a network or upstream failure. */
export function isLocalExhaustion(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && LOCAL_CODES.has(code)) return true;
  const message = (e as Error | null)?.message;
  return typeof message === "string" && /\b(EMFILE|ENFILE|EADDRNOTAVAIL|ENOBUFS)\b|FdQuotaExceeded/.test(message);
}

/** The errno-style name of a local exhaustion, for the detail and logs. */
export function exhaustionCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && LOCAL_CODES.has(code) ? code : "resource exhaustion";
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
