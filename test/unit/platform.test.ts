// src/platform.ts on both runtimes: each check runs in a child process of Bun and of Deno.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";

const root = new URL("../..", import.meta.url).pathname;
const platform = `${root}src/platform.ts`;

/** Runs `code` (an ES module importing src/platform.ts) on `runtime`; its exit status and stdout, or null status when killed at 10 s. */
function run(runtime: "bun" | "deno", code: string): { status: number | null; out: string } {
  const argv = runtime === "bun" ? ["-e", code] : ["eval", "--ext=ts", code];
  const r = spawnSync(`${root}node_modules/.bin/${runtime}`, argv, { cwd: "/tmp", timeout: 10_000, encoding: "utf8", env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp" } });
  return { status: r.status, out: r.stdout.trim() };
}

for (const runtime of ["bun", "deno"] as const) {
  describe(`platform.ts on ${runtime}`, () => {
    test("runtimeName names the runtime", () => {
      expect(run(runtime, `import { runtimeName } from "${platform}"; console.log(runtimeName);`).out).toBe(runtime);
    });

    test("an unref'd interval and timeout do not keep the process alive; a plain interval would", () => {
      expect(run(runtime, `import { unrefInterval, unrefTimeout } from "${platform}"; unrefInterval(() => {}, 50); unrefTimeout(() => {}, 60_000);`).status).toBe(0);
      // The control: the same child with a plain interval is still running when killed.
      expect(run(runtime, `setInterval(() => {}, 50); setTimeout(() => process.exit(3), 1000);`).status).toBe(3);
    });

    test("the fetch cap is Bun's (configured or 256) and absent on Deno", () => {
      const out = run(runtime, `import { fetchConcurrencyCap } from "${platform}"; console.log(JSON.stringify([fetchConcurrencyCap(null), fetchConcurrencyCap(65535)]));`).out;
      expect(JSON.parse(out)).toEqual(runtime === "bun" ? [256, 65535] : [null, null]);
    });

    test("request storage follows a request through awaits, and not outside it", () => {
      const code = `import { createRequestStorage } from "${platform}";
        const s = createRequestStorage<string>();
        const seen = await s.run("req-1", async () => { await new Promise((r) => setTimeout(r, 5)); return s.get(); });
        console.log(JSON.stringify([seen, s.get() ?? null]));`;
      expect(JSON.parse(run(runtime, code).out)).toEqual(["req-1", null]);
    });

    test("work started inside exit() (timers, promises) runs outside the request", () => {
      const code = `import { createRequestStorage } from "${platform}";
        const s = createRequestStorage<string>();
        const seen = await s.run("req-1", () => s.exit(() => new Promise((r) => setTimeout(() => Promise.resolve().then(() => r(s.get() ?? null)), 5))));
        console.log(JSON.stringify(seen));`;
      expect(JSON.parse(run(runtime, code).out)).toBeNull();
    });

    test("the CPU clock moves with work and says which clock it is", () => {
      const code = `import { threadCpuClock } from "${platform}";
        const c = threadCpuClock(); const t0 = c.now(); const end = performance.now() + 30; while (performance.now() < end) {}
        console.log(JSON.stringify({ kind: c.kind, moved: c.now() > t0 }));`;
      const r = JSON.parse(run(runtime, code).out) as { kind: string; moved: boolean };
      expect(["thread-cpu", "process-cpu"]).toContain(r.kind);
      expect(r.moved).toBe(true);
    });
  });
}
