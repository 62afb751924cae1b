import pino, { type Logger } from "pino";
import { currentRequestScope } from "./request-scope.ts";

export type { Logger };

/** Paths whose values never reach the log stream. */
export const REDACT_PATHS = [
  "password", "*.password", "new_password", "*.new_password", "token", "*.token", "access_token", "*.access_token",
  "refresh_token", "*.refresh_token", "id_token", "*.id_token", "secret", "*.secret", "client_secret", "*.client_secret",
  "api_key", "*.api_key", "authorization", "*.authorization", "cookie", "*.cookie",
  "headers.authorization", "headers.cookie", 'headers["set-cookie"]', 'headers["x-api-key"]',
  "req.headers.authorization", "req.headers.cookie", 'req.headers["x-api-key"]', 'res.headers["set-cookie"]',
  // Second factors (issue 18).
  "mfa_token", "*.mfa_token", "recovery_code", "*.recovery_code", "recovery_codes", "*.recovery_codes", "otpauth_uri", "*.otpauth_uri",
];

/**
 * JSON-lines logger with secrets redacted. Lines written while a request is being served
 * carry its `reqId`. `destination` is for tests that read the stream.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { service: "gatehouse" },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const id = currentRequestScope()?.requestId;
      return id === undefined ? {} : { reqId: id };
    },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
