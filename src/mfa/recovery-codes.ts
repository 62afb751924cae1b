/** Ten codes, as most services hand out. */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** One code: three groups of four base32 characters (60 random bits), e.g. `K7QD-2MXA-PL4T`. */
export function newRecoveryCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const chars = [...bytes].map((b) => ALPHABET[b & 31]).join("");
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}

/** A fresh set of {@link RECOVERY_CODE_COUNT} distinct codes. */
export function newRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(newRecoveryCode());
  return [...codes];
}

/** The form a code is hashed in: upper case, without spaces or hyphens; null when it cannot be a code. */
export function normaliseRecoveryCode(input: string): string | null {
  const v = input.replace(/[\s-]/g, "").toUpperCase();
  return /^[A-Z2-7]{12}$/.test(v) ? v : null;
}
