import { BadRequestError } from "./auth-errors.ts";
import { MESSAGES } from "./messages.ts";

const encoder = new TextEncoder();

/** Open WebUI's email check: `x@localhost`, or something@something.something. */
export function isValidEmail(email: string): boolean {
  if (email.length > 320) return false;
  if (email.endsWith("@localhost")) return /^[^@\s]+@localhost$/.test(email);
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email);
}

/** Refuses passwords bcrypt would silently truncate (Open WebUI's rule) and empty ones. */
export function checkNewPassword(password: string): void {
  if (password.length === 0) throw new BadRequestError(MESSAGES.EMPTY_PASSWORD, "ERR_PASSWORD_EMPTY");
  checkPasswordLength(password);
}

/** Refuses passwords over 72 UTF-8 bytes, as Open WebUI does for sign-in too. */
export function checkPasswordLength(password: string): void {
  if (encoder.encode(password).length > 72) throw new BadRequestError(MESSAGES.PASSWORD_TOO_LONG, "ERR_PASSWORD_TOO_LONG");
}
