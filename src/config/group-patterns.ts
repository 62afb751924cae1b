/** Decides whether a group name is blocked (never joined, left or created by a sync). */
export type GroupMatcher = (name: string) => boolean;

/** A blocked-groups pattern Gatehouse refuses to run. */
export class UnsafeGroupPatternError extends Error {
  readonly code = "ERR_GROUP_PATTERN_UNSAFE";
  constructor(readonly pattern: string, reason: string) {
    super(`blocked-group pattern refused: ${reason}`);
    this.name = "UnsafeGroupPatternError";
  }
}

/** Group names longer than this are never matched as regexes (they are refused by the sync anyway). */
export const MAX_GROUP_NAME_LENGTH = 255;
const MAX_PATTERN_LENGTH = 256;
// Each unbounded quantifier multiplies the worst case by the name length: three keep it ≈ 255³/6 steps.
const MAX_UNBOUNDED_QUANTIFIERS = 3;
// Open WebUI treats a pattern as a regex when it holds one of these.
const REGEX_MARKERS = /[\^$[\](){}+\\|]/;

/** Matches nothing: the default when no groups are blocked. */
export const NO_BLOCKED_GROUPS: GroupMatcher = () => false;

/**
 * Builds the matcher for `OAUTH_BLOCKED_GROUPS`, with Open WebUI's rules per entry: an
 * exact name; a regex when the entry holds a regex character (`^ $ [ ] ( ) { } + \ |`),
 * searched anywhere in the name; a shell wildcard (`*`, `?`) otherwise.
 *
 * @throws UnsafeGroupPatternError for a regex that does not compile, is too long, or could
 *   backtrack catastrophically (a quantified group that itself contains a quantifier or
 *   an alternation, a backreference, more than three unbounded quantifiers) — refused at boot rather than run on every login.
 */
export function blockedGroupMatcher(patterns: readonly string[]): GroupMatcher {
  const exact = new Set<string>();
  const tests: RegExp[] = [];
  for (const p of patterns) {
    if (!p) continue;
    exact.add(p);
    if (REGEX_MARKERS.test(p)) tests.push(safeRegex(p));
    else if (p.includes("*") || p.includes("?")) tests.push(wildcard(p));
  }
  if (exact.size === 0) return NO_BLOCKED_GROUPS;
  return (name) => exact.has(name) || (name.length <= MAX_GROUP_NAME_LENGTH && tests.some((r) => r.test(name)));
}

function wildcard(p: string): RegExp {
  const body = [...p].map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"))).join("");
  // Adjacent stars collapse: `.*.*` would only add backtracking.
  return new RegExp(`^${body.replace(/(\.\*)+/g, ".*")}$`, "s");
}

/** Compiles `p` after refusing the shapes that backtrack exponentially. */
export function safeRegex(p: string): RegExp {
  if (p.length > MAX_PATTERN_LENGTH) throw new UnsafeGroupPatternError(p, `longer than ${MAX_PATTERN_LENGTH} characters`);
  let re: RegExp;
  try {
    re = new RegExp(p);
  } catch {
    throw new UnsafeGroupPatternError(p, "not a valid regular expression");
  }
  if (/\\[1-9]|\\k</.test(p)) throw new UnsafeGroupPatternError(p, "backreferences are not allowed");
  if ((p.replace(/\\./g, "").match(/[*+]|\{\d+,\}/g) ?? []).length > MAX_UNBOUNDED_QUANTIFIERS) {
    throw new UnsafeGroupPatternError(p, `more than ${MAX_UNBOUNDED_QUANTIFIERS} unbounded quantifiers`);
  }
  if (hasNestedQuantifier(p)) throw new UnsafeGroupPatternError(p, "a quantified group containing a quantifier or alternation can backtrack catastrophically");
  return re;
}

/**
 * Walks the pattern's groups: a group followed by a quantifier (`*`, `+`, `?`, `{`) whose
 * body contains a quantifier or `|` is the classic exponential shape (`(a+)+`, `(a|aa)*`).
 */
function hasNestedQuantifier(p: string): boolean {
  const stack: Array<{ risky: boolean }> = [];
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      continue;
    }
    if (ch === "[") inClass = true;
    else if (ch === "(") stack.push({ risky: false });
    else if (ch === ")") {
      const g = stack.pop();
      const next = p[i + 1];
      const quantified = next === "*" || next === "+" || next === "?" || next === "{";
      if (g?.risky && quantified) return true;
      if (g?.risky && stack.length > 0) stack[stack.length - 1]!.risky = true;
    } else if ((ch === "*" || ch === "+" || ch === "{" || ch === "|" || (ch === "?" && p[i - 1] !== "(")) && stack.length > 0) {
      stack[stack.length - 1]!.risky = true;
    }
  }
  return false;
}
