/**
 * Serialises like Python's `json.dumps` with its defaults (`ensure_ascii=True`, `allow_nan=True`,
 * separators `", "` and `": "`), so that bytes we encrypt or sign are the bytes Open WebUI would
 * have produced for the same value.
 *
 * Where JavaScript has lost information Python keeps, the choice is fixed and documented:
 * an integral number is written as a Python `int` (`3600`, never `3600.0`), a non-integral one as
 * Python's float `repr` (`1767225600.5`, `1e-05`, `1.5e+16`); `-0` is written `0`. Key order is
 * the object's own order, so integer-like keys come first as JavaScript orders them; pass a `Map`
 * when that matters. `bigint` is written as an integer.
 */

/** Options mirroring `json.dumps` keyword arguments. */
export interface PythonJsonOptions {
  /** `(item_separator, key_separator)`; `[",", ":"]` is PyJWT's compact form. */
  separators?: readonly [string, string];
}

/**
 * Python `json.dumps(value)`. Throws `TypeError` for values Python could not serialise either
 * (undefined, functions, symbols, class instances other than `Map`) and for circular structures.
 */
export function pythonJsonDumps(value: unknown, opts: PythonJsonOptions = {}): string {
  const [item, key] = opts.separators ?? [", ", ": "];
  const seen = new Set<object>();

  const dump = (v: unknown): string => {
    switch (typeof v) {
      case "string":
        return quote(v);
      case "number":
        return pythonNumber(v);
      case "bigint":
        return v.toString();
      case "boolean":
        return v ? "true" : "false";
      case "object": {
        if (v === null) return "null";
        if (seen.has(v)) throw new TypeError("Circular reference detected");
        seen.add(v);
        try {
          return container(v);
        } finally {
          seen.delete(v);
        }
      }
      default:
        throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
    }
  };

  const container = (v: object): string => {
    if (Array.isArray(v)) return `[${v.map(dump).join(item)}]`;
    const entries = v instanceof Map ? [...v.entries()] : isPlainObject(v) ? Object.entries(v) : null;
    if (entries === null) throw new TypeError(`Object of type ${v.constructor?.name ?? "object"} is not JSON serializable`);
    const parts = entries.map(([k, val]) => {
      if (typeof k !== "string") throw new TypeError("keys must be str");
      return `${quote(k)}${key}${dump(val)}`;
    });
    return `{${parts.join(item)}}`;
  };

  return dump(value);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** `ensure_ascii`: everything outside `' '..'~'` is escaped; UTF-16 units map 1:1 to `\uXXXX`. */
function quote(s: string): string {
  return `"${s.replace(/[\\"]|[^ -~]/g, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

/** Python's `int.__repr__` for integral values, `float.__repr__` otherwise. */
function pythonNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  if (Number.isInteger(n)) return BigInt(n).toString();
  // Both languages print the shortest round-tripping digits; only the layout differs.
  const [mantissa = "", expText = "0"] = n.toExponential().split("e");
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace(/^-/, "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${digits[0]}${frac}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const fracPart = digits.slice(exp + 1);
  return `${sign}${intPart}.${fracPart === "" ? "0" : fracPart}`;
}
