/**
 * Parses a duration the way Open WebUI's `parse_duration` does, so `JWT_EXPIRES_IN`
 * means the same thing on both sides of a shared deployment.
 *
 * Number–unit pairs (`ms|s|m|h|d|w`, decimals, optional leading minus) are summed; text
 * around them is ignored (`10min` is 10 minutes, `1mo` is 1 minute). `-1` and `0` mean
 * "never expires" and so does a total of zero (`0s`).
 *
 * @returns seconds (may be negative or fractional), or `null` for "never expires".
 * @throws RangeError when the string holds no number–unit pair.
 */
export function parseOpenWebUIDuration(value: string): number | null {
  if (value === "-1" || value === "0") return null;
  const pattern = /(-?\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
  let total = 0;
  let matched = false;
  for (const m of value.matchAll(pattern)) {
    matched = true;
    total += Number(m[1]) * UNIT_SECONDS[m[2] as Unit];
  }
  if (!matched) throw new RangeError("Invalid duration string");
  return total === 0 ? null : total;
}

type Unit = "ms" | "s" | "m" | "h" | "d" | "w";
const UNIT_SECONDS: Record<Unit, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
