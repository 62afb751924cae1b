import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { importCycles, importGraph, layerOf, upwardEdges } from "../helpers/import-graph.ts";

const src = new URL("../../src", import.meta.url).pathname;

describe("src/ import graph (DESIGN §2 layering)", () => {
  const graph = importGraph(src);

  test("the walk finds the modules and their imports", () => {
    expect(graph.modules).toContain("app.ts");
    expect(graph.modules).toContain("platform.ts");
    expect(graph.edges).toContainEqual({ from: "entry.ts", to: "server.ts" });
    expect(graph.edges).toContainEqual({ from: "main.deno.ts", to: "runtime/deno.ts" });
    expect(graph.edges.length).toBeGreaterThan(graph.modules.length);
  });

  test("every module is in a layer", () => {
    expect(graph.modules.filter((m) => layerOf(m) === -1)).toEqual([]);
  });

  test("no import points up the layering", () => {
    expect(upwardEdges(graph.edges)).toEqual([]);
  });

  test("no import cycles", () => {
    expect(importCycles(graph.modules, graph.edges)).toEqual([]);
  });

  test("platform.ts imports nothing from the project", () => {
    expect(graph.edges.filter((e) => e.from === "platform.ts")).toEqual([]);
  });

  test("the runtime adapters do not import each other; crypto/ takes its settings, not the config readers", () => {
    expect(graph.edges.filter((e) => e.from.startsWith("runtime/") && /^runtime\/(bun|deno)\.ts$/.test(e.to))).toEqual([]);
    expect(graph.edges.filter((e) => e.from.startsWith("crypto/") && e.to === "config/readers.ts")).toEqual([]);
  });

  test("the checks catch an upward edge and a cycle", () => {
    expect(upwardEdges([{ from: "config/config.ts", to: "crypto/offload/policy.ts" }])).toHaveLength(1);
    expect(importCycles(["a.ts", "b.ts"], [{ from: "a.ts", to: "b.ts" }, { from: "b.ts", to: "a.ts" }])).toEqual(["a.ts ⇄ b.ts"]);
  });

  const sourceOf = (m: string) => readFileSync(`${src}/${m}`, "utf8");

  test("crypto/jwt/ signs and verifies without the offload machinery (crypto/offload/ runs it, not the reverse)", () => {
    expect(graph.edges.filter((e) => e.from.startsWith("crypto/jwt/") && e.to.startsWith("crypto/offload/"))).toEqual([]);
    expect(graph.modules.filter((m) => /^crypto\/[^/]*-error\.ts$/.test(m))).toEqual([]);
  });

  test("every route file is in http/ (an Elysia plugin elsewhere is only app.ts)", () => {
    const routeFiles = graph.modules.filter((m) => /new Elysia\(/.test(sourceOf(m)));
    expect(routeFiles.length).toBeGreaterThan(5);
    expect(routeFiles.filter((m) => !m.startsWith("http/") && m !== "app.ts")).toEqual([]);
  });

  test("auth/ does not touch the file system (the data directory is embedded/data-dir.ts)", () => {
    expect(graph.modules.filter((m) => m.startsWith("auth/") && /from "node:fs/.test(sourceOf(m)))).toEqual([]);
  });

  test("only src/config/ and the entry points read process.env", () => {
    const entries = new Set(["main.ts", "main.deno.ts", "cli.ts"]);
    const readers = graph.modules.filter((m) => !m.startsWith("config/") && !entries.has(m) && /process\??\.env|Deno\.env/.test(sourceOf(m)));
    expect(readers).toEqual([]);
  });
});
