import { ConfigError } from "./errors.ts";
import { parseOpenWebUIDuration } from "./duration.ts";

/** The raw environment: variable name → string (unset variables are absent). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The one precedence rule: a variable that is set and not blank wins; otherwise the
 * default applies. Surrounding whitespace is trimmed.
 */
export function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === "" ? undefined : t;
}

/** A string, or the default. */
export function str(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

/** A string, or `null` when unset. */
export function optionalStr(env: Env, name: string): string | null {
  return raw(env, name) ?? null;
}

/** An integer in `[min, max]`. */
export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `an integer from ${min} to ${max}`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `an integer from ${min} to ${max}`);
  return n;
}

/** A non-negative number (decimals allowed) in `[min, max]`. */
export function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new ConfigError(name, `a number from ${min} to ${max}`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `a number from ${min} to ${max}`);
  return n;
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** A boolean: true/false, 1/0, yes/no, on/off (any case). */
export function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new ConfigError(name, "true or false");
}

/** One of a fixed set of words (case-insensitive). */
export function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new ConfigError(name, `one of ${allowed.join(", ")}`);
}

/** A list split on `sep`, blanks dropped. */
export function list(env: Env, name: string, sep: string | RegExp = ","): string[] {
  const v = raw(env, name);
  if (v === undefined) return [];
  return v.split(sep).map((s) => s.trim()).filter((s) => s !== "");
}

/** An absolute URL whose scheme is one of `schemes` (e.g. `["redis:", "rediss:"]`). */
export function url(env: Env, name: string, schemes: readonly string[]): string | null {
  const v = raw(env, name);
  if (v === undefined) return null;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(name, `a URL starting with ${schemes.map((s) => s + "//").join(" or ")}`);
  }
  if (!schemes.includes(parsed.protocol)) {
    throw new ConfigError(name, `a URL starting with ${schemes.map((s) => s + "//").join(" or ")}`);
  }
  return v;
}

/** An Open WebUI duration such as `4w`, `1d12h`, `-1`; returns seconds or null (never). */
export function duration(env: Env, name: string, fallback: string): { text: string; seconds: number | null } {
  const text = str(env, name, fallback);
  try {
    return { text, seconds: parseOpenWebUIDuration(text) };
  } catch {
    throw new ConfigError(name, "a duration like 4w, 1d12h, 30m, 500ms, or -1 for never");
  }
}

/**
 * A Fernet key source, as Open WebUI treats it: a 44-character value is used verbatim and
 * must then be a real Fernet key (URL-safe base64 of 32 bytes); any other length is hashed
 * into a key later.
 */
export function fernetKeySource(env: Env, name: string): string | null {
  const v = raw(env, name);
  if (v === undefined) return null;
  if (v.length === 44 && !isFernetKey(v)) {
    throw new ConfigError(
      name,
      "a Fernet key (44 characters of URL-safe base64 encoding 32 bytes), or any passphrase of another length",
    );
  }
  return v;
}

/** A comma-separated list of Fernet key sources, each checked as {@link fernetKeySource} checks one. */
export function fernetKeyList(env: Env, name: string): string[] {
  const values = list(env, name);
  for (const v of values) {
    if (v.length === 44 && !isFernetKey(v)) {
      throw new ConfigError(name, "comma-separated Fernet keys (44 characters of URL-safe base64 encoding 32 bytes) or passphrases of another length");
    }
  }
  return values;
}

/** True for a real Fernet key: URL-safe base64 of 32 bytes. */
export function isFernetKey(v: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}=$/.test(v)) return false;
  const bin = atob(v.replace(/-/g, "+").replace(/_/g, "/"));
  return bin.length === 32;
}
