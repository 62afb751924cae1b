/**
 * A guard over every log stream the suite reads (in-process test apps and spawned server
 * processes): any line that looks like it carries a secret is remembered, and the preload
 * (test/setup.ts) fails the run when one was seen. Shapes, not values: the suite's
 * passwords and tokens differ per test, but their shapes do not.
 */

/** What a secret looks like on the wire: JWTs, Gatehouse/Open WebUI API keys, Fernet tokens, password hashes, unredacted secret fields. */
export const SECRET_SHAPES: ReadonlyArray<{ name: string; re: RegExp }> = [
  { name: "JWT", re: /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{16,}/ },
  { name: "API key", re: /\bsk-[0-9a-f]{32}\b/ },
  { name: "Fernet token", re: /\bgAAAAA[\w-]{40,}/ },
  { name: "bcrypt hash", re: /\$2[aby]\$\d\d\$[./A-Za-z0-9]{20,}/ },
  { name: "argon2 hash", re: /\$argon2(?:id|i|d)\$/ },
  { name: "unredacted secret field", re: /"(?:password|new_password|token|access_token|refresh_token|id_token|api_key|client_secret|secret|authorization|cookie|mfa_token|recovery_code|otpauth_uri)":"(?!\[redacted\])[^"]/i },
  // Second factors (issue 18): a TOTP secret (160 bits, base32), its otpauth:// URI, a recovery code (XXXX-XXXX-XXXX).
  { name: "TOTP secret", re: /\b[A-Z2-7]{32}\b/ },
  { name: "otpauth URI", re: /otpauth:\/\// },
  { name: "recovery code", re: /\b[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}\b/ },
];

const leaks: string[] = [];

/** Scans `text` (one or more log lines from `source`) and remembers every line that matches a shape. */
export function scanForLeaks(source: string, text: string): void {
  for (const line of text.split("\n")) {
    for (const { name, re } of SECRET_SHAPES) {
      // Only the shape's name and the line's message: the report must not leak the secret either.
      if (re.test(line)) leaks.push(`${source}: ${name} in the log line ${JSON.stringify(messageOf(line))}`);
    }
  }
}

/** Every leak seen so far in this process. */
export function logLeaks(): readonly string[] {
  return leaks;
}

function messageOf(line: string): string {
  try {
    const msg = (JSON.parse(line) as { msg?: unknown }).msg;
    return typeof msg === "string" ? msg.slice(0, 80) : "(no msg)";
  } catch {
    return "(not JSON)";
  }
}
