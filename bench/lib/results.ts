import { mkdirSync, writeFileSync } from "node:fs";

const dir = new URL("../results/", import.meta.url).pathname;

/** Writes `bench/results/<name>.json` and `<name>.md`. */
export function writeResults(name: string, data: unknown, markdown: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${name}.json`, JSON.stringify(data, null, 2) + "\n");
  writeFileSync(`${dir}${name}.md`, markdown.endsWith("\n") ? markdown : markdown + "\n");
  console.log(`wrote bench/results/${name}.json and .md`);
}

/** A markdown table. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  return [
    `| ${headers.join(" | ")} |`,
    `|${headers.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** The machine, for the results header. */
export function machine(): Record<string, string | number> {
  return { bun: Bun.version, cores: navigator.hardwareConcurrency, date: new Date().toISOString() };
}
