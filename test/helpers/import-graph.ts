/**
 * src/'s import graph and the layering of DESIGN §2: entries → server/app → http, pages, ws,
 * gateway, cli → auth, oauth, ldap, scim, mfa, groups → crypto, db, kv, observability →
 * config, platform. Runs on Bun and Deno (node: APIs only).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Layers from the top (0) down; a module may import its own layer (without cycles) or any below. */
export const LAYERS: readonly (readonly string[])[] = [
  ["main.ts", "main.deno.ts", "entry.ts", "supervisor.ts", "cli.ts"],
  ["server.ts", "app.ts", "instance.ts", "runtime"],
  ["http", "pages", "ws", "gateway", "cli"],
  ["auth", "oauth", "ldap", "scim", "mfa", "groups"],
  // services.ts composes this layer (database, store, crypto, metrics) and nothing above it.
  ["crypto", "db", "kv", "observability", "faults", "embedded", "cache", "services.ts", "lifecycle.ts"],
  ["config", "net", "platform.ts", "libc.ts", "errors.ts", "with-timeout.ts"],
];

/** One import: `from` imports `to` (both relative to src/, e.g. `auth/cookies.ts`). */
export interface ImportEdge {
  from: string;
  to: string;
}

/** The area of a module: its first path segment (`auth/cookies.ts` → `auth`, `app.ts` → `app.ts`). */
export function areaOf(module: string): string {
  return module.split("/")[0]!;
}

/** The layer index of a module (0 = top), or -1 when its area is in no layer. */
export function layerOf(module: string): number {
  const area = areaOf(module);
  return LAYERS.findIndex((l) => l.includes(area));
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every relative import between .ts files under `srcDir` (type-only imports included). */
export function importGraph(srcDir: string): { modules: string[]; edges: ImportEdge[] } {
  const files = listFiles(srcDir);
  const edges: ImportEdge[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(srcDir) || !target.endsWith(".ts")) continue;
      edges.push({ from: relative(srcDir, file), to: relative(srcDir, target) });
    }
  }
  return { modules: files.map((f) => relative(srcDir, f)).sort(), edges };
}

/** Imports that point up the layering, or into an area the layering does not name. */
export function upwardEdges(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = layerOf(e.from);
    const to = layerOf(e.to);
    if (from === -1 || to === -1) out.push(`${e.from} → ${e.to} (area not in the layering)`);
    else if (to < from) out.push(`${e.from} → ${e.to} (${areaOf(e.from)} imports ${areaOf(e.to)}, a layer above)`);
  }
  return [...new Set(out)].sort();
}

/** Each import cycle once, as `a → b → … → a` (Tarjan's strongly connected components). */
export function importCycles(modules: readonly string[], edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, string[]>(modules.map((m) => [m, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(scc.sort().join(" ⇄ "));
    }
  };
  for (const m of modules) if (!idx.has(m)) visit(m);
  return cycles.sort();
}
