import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";

const root = new URL("../..", import.meta.url).pathname;

/** Every `env, "NAME"` / `env["NAME"]` the configuration readers use, by scanning src/. */
function variablesReadBySource(): string[] {
  const names = new Set<string>();
  for (const file of new Bun.Glob("src/**/*.ts").scanSync({ cwd: root })) {
    const text = readFileSync(`${root}${file}`, "utf8");
    for (const m of text.matchAll(/env, "([A-Z][A-Z0-9_]+)"|env\["([A-Z][A-Z0-9_]+)"\]/g)) names.add(m[1] ?? m[2]!);
  }
  return [...names].sort();
}

describe(".env.example", () => {
  test("lists every variable the code reads (so operators can find each one, with its default)", () => {
    const example = readFileSync(`${root}.env.example`, "utf8");
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    const read = variablesReadBySource();
    expect(read.length).toBeGreaterThan(50);
    expect(read.filter((v) => !listed.has(v))).toEqual([]);
  });
});
