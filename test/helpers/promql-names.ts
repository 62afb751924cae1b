/**
 * Metric names used by a PromQL expression (a Grafana target, a Grafana variable query or a
 * Prometheus rule), so a test can check that every name a dashboard or alert reads is one
 * Gatehouse exports. Not a PromQL parser: it removes what cannot hold a metric name (strings,
 * label matchers, ranges, grouping label lists, Grafana variables) and keeps the identifiers
 * left that are neither functions (followed by `(`) nor keywords.
 */

/** Words that are operators or modifiers, never metric names (PromQL is case-insensitive here). */
const KEYWORDS = new Set([
  "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
  "and", "or", "unless", "offset", "atan2", "inf", "nan",
]);

/** Modifiers followed by a parenthesised list of label names. */
const LABEL_LISTS = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/gi;

/**
 * The metric names `expr` reads, in order of first appearance, as written (a histogram's
 * `_bucket`, `_sum`, `_count` series keep their suffix: see `metricFamily`).
 */
export function promqlMetricNames(expr: string): string[] {
  const names: string[] = [];
  const add = (n: string) => {
    if (!names.includes(n)) names.push(n);
  };
  let e = grafanaVariableQuery(expr);
  if (e === null) return [];
  // `{__name__="x"}` names a metric inside a matcher.
  for (const m of e.matchAll(/__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"/g)) add(m[1]!);
  e = e
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/\$\{[^}]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*/g, " 0 ") // Grafana variables ($__rate_interval, ${instance})
    .replace(/\{[^{}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // ranges and subqueries
    .replace(LABEL_LISTS, " "); // by (le, route), on (instance), group_left (x)
  const tokens = /[0-9.][0-9a-zA-Z_.]*|[a-zA-Z_:][a-zA-Z0-9_:]*|\S/g;
  for (const m of e.matchAll(tokens)) {
    const word = m[0];
    if (!/^[a-zA-Z_:]/.test(word)) continue;
    if (KEYWORDS.has(word.toLowerCase())) continue;
    const rest = e.slice(m.index! + word.length);
    if (/^\s*\(/.test(rest)) continue; // a function or an aggregation
    add(word);
  }
  return names;
}

/**
 * The PromQL inside a Grafana Prometheus variable query: `label_values(metric, label)` reads
 * `metric`; `label_values(label)` and `metrics(regex)` read none (null); `query_result(q)` reads
 * `q`; anything else is PromQL already.
 */
function grafanaVariableQuery(q: string): string | null {
  const m = /^\s*(label_values|query_result|metrics|label_names)\s*\(([\s\S]*)\)\s*$/.exec(q);
  if (!m) return q;
  const [, fn, inner] = m as unknown as [string, string, string];
  if (fn === "metrics" || fn === "label_names") return null;
  if (fn === "query_result") return inner;
  const args = splitTopLevel(inner);
  return args.length >= 2 ? args.slice(0, -1).join(",") : null;
}

/** Splits at commas outside parentheses, braces, brackets and strings. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if ("({[".includes(c)) depth++;
    else if (")}]".includes(c)) depth--;
    else if (c === "," && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((a) => a.trim()).filter((a) => a !== "");
}

/** The series suffixes a Prometheus histogram (or summary) family exposes. */
export const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

/**
 * The family a series name belongs to, as `/metrics` declares it in `# TYPE <family> <type>`:
 * `x_bucket`, `x_sum`, `x_count` → `x` (with the suffix); anything else is its own family.
 */
export function metricFamily(name: string): { family: string; suffix: string | null } {
  const suffix = HISTOGRAM_SUFFIXES.find((s) => name.endsWith(s) && name.length > s.length);
  return suffix ? { family: name.slice(0, -suffix.length), suffix } : { family: name, suffix: null };
}

/** `# TYPE <name> <type>` lines of a Prometheus text exposition, as name → type. */
export function declaredTypes(exposition: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)\s*$/gm)) types.set(m[1]!, m[2]!);
  return types;
}

/**
 * Why `name` (as written in an expression) is not served by an exposition with `types`, or
 * null when it is: the name itself is declared, or it is `_bucket`/`_sum`/`_count` of a declared
 * histogram (`_sum`/`_count` of a summary too).
 */
export function missingReason(name: string, types: Map<string, string>): string | null {
  if (types.has(name)) return null;
  const { family, suffix } = metricFamily(name);
  if (suffix === null) return `${name}: no "# TYPE ${name}"`;
  const type = types.get(family);
  if (type === undefined) return `${name}: no "# TYPE ${family}"`;
  if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return null;
  return `${name}: ${family} is a ${type}, which has no ${suffix} series`;
}
