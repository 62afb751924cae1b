/**
 * Prints a Chrome-format `.cpuprofile` (Bun's `--cpu-prof`) as a call tree of sample shares,
 * counting only the samples of its last `seconds` (the measured wrk run, not start-up).
 *   bun bench/lib/cpuprofile-tree.ts <file.cpuprofile> [seconds=5] [min share %=0.5]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, lastSeconds = "5", minShare = "0.5"] = process.argv.slice(2);
if (!file) throw new Error("usage: bun bench/lib/cpuprofile-tree.ts <file.cpuprofile> [seconds] [min %]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const from = profile.endTime - Number(lastSeconds) * 1e6;
const selfCount = new Map<number, number>();
let total = 0;
let t = profile.startTime;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i]!;
  if (t < from) return;
  total++;
  selfCount.set(id, (selfCount.get(id) ?? 0) + 1);
});
const totals = new Map<number, number>();
const totalOf = (id: number): number => {
  let n = totals.get(id);
  if (n === undefined) {
    n = (selfCount.get(id) ?? 0) + (byId.get(id)!.children ?? []).reduce((a, c) => a + totalOf(c), 0);
    totals.set(id, n);
  }
  return n;
};
const pct = (n: number) => `${((100 * n) / total).toFixed(1)}%`;
const label = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/.*\/(node_modules\/)?/, "")}:${n.callFrame.lineNumber + 1}`;
function walk(id: number, depth: number): void {
  const node = byId.get(id)!;
  if ((100 * totalOf(id)) / total < Number(minShare)) return;
  console.log(`${"  ".repeat(depth)}${pct(totalOf(id))} (self ${pct(selfCount.get(id) ?? 0)}) ${label(node)}`);
  for (const c of [...(node.children ?? [])].sort((a, b) => totalOf(b) - totalOf(a))) walk(c, depth + 1);
}
console.log(`${total} samples in the last ${lastSeconds} s`);
walk(profile.nodes[0]!.id, 0);
