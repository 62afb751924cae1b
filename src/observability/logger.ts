import pino, { type Logger } from "pino";

export type { Logger };

/** Paths whose values never reach the log stream. */
export const REDACT_PATHS = [
  "password", "*.password", "token", "*.token", "access_token", "*.access_token",
  "refresh_token", "*.refresh_token", "id_token", "*.id_token", "secret", "*.secret",
  "headers.authorization", "headers.cookie", 'headers["set-cookie"]', 'headers["x-api-key"]',
  "req.headers.authorization", "req.headers.cookie", 'req.headers["x-api-key"]',
];

/** JSON-lines logger with secrets redacted. `destination` is for tests that read the stream. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { service: "gatehouse" },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(opts, destination) : pino(opts);
}
