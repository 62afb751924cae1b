/**
 * The serve function of the runtime this fixture process runs on, so one fixture file boots
 * on Bun and on Deno (the production entries pick theirs statically: src/main.ts, src/main.deno.ts).
 */
import type { ServeFunction } from "../../src/runtime/serve.ts";

export async function runtimeServe(): Promise<ServeFunction> {
  return "Deno" in globalThis ? (await import("../../src/runtime/deno.ts")).serveDeno : (await import("../../src/runtime/bun.ts")).serveBun;
}

/** A full garbage collection where the runtime offers one (Bun.gc; Deno with --v8-flags=--expose-gc). */
export function collectGarbage(): void {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}
