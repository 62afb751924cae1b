/**
 * `npm test`: type-check, start a throwaway Postgres and redis-server (unless
 * TEST_DATABASE_URL / TEST_REDIS_URL point at existing ones), run the Bun suites and the
 * Deno suite against them, stop everything, and print `N passed, N failed` last.
 * The summary line is also written to test/artifacts/summary.txt for .ci/run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { ensureBinaries, startPostgres, startRedis, stopAll } from "./harness/services.ts";
import { ensureChromium } from "./harness/apt.ts";

const root = new URL("..", import.meta.url).pathname;
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const args = process.argv.slice(2);
let passed = 0;
let failed = 0;
const problems: string[] = [];

async function run(cmd: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(cmd, { cwd: root, env: { ...process.env, NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe" });
  const collect = async (stream: ReadableStream<Uint8Array>, sink: NodeJS.WriteStream) => {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const s = decoder.decode(chunk, { stream: true });
      text += s;
      sink.write(s);
    }
    return text;
  };
  const [out, err] = await Promise.all([collect(proc.stdout, process.stdout), collect(proc.stderr, process.stderr)]);
  return { code: await proc.exited, out: out + err };
}

function lastNumber(text: string, re: RegExp): number | undefined {
  const all = [...text.matchAll(re)];
  const m = all[all.length - 1];
  return m ? Number(m[1]) : undefined;
}

async function main(): Promise<void> {
  const tsc = await run([bin("tsc"), "--noEmit", "-p", "."], {});
  if (tsc.code !== 0) {
    failed++;
    problems.push("tsc --noEmit reported type errors");
  }

  const env: Record<string, string> = {};
  if (!process.env["TEST_DATABASE_URL"] || !process.env["TEST_REDIS_URL"]) await ensureBinaries();
  // The page tests drive Debian's Chromium; installed here so the download is not inside a test's timeout.
  await ensureChromium();
  env["TEST_DATABASE_URL"] = process.env["TEST_DATABASE_URL"] ?? (await startPostgres({ maxConnections: 400 })).url;
  env["TEST_REDIS_URL"] = process.env["TEST_REDIS_URL"] ?? (await startRedis()).url;
  console.log(`test services: postgres ${redact(env["TEST_DATABASE_URL"])}, redis ${redact(env["TEST_REDIS_URL"])}`);

  const bunTest = await run([bin("bun"), "test", "--timeout", "60000", ...args], env);
  const bp = lastNumber(bunTest.out, /^\s*(\d+) pass$/gm);
  const bf = lastNumber(bunTest.out, /^\s*(\d+) fail$/gm);
  if (bp === undefined || bf === undefined) {
    failed++;
    problems.push(`bun test printed no summary (exit ${bunTest.code})`);
  } else {
    passed += bp;
    failed += bf;
    if (bunTest.code !== 0 && bf === 0) {
      failed++;
      problems.push(`bun test exited ${bunTest.code}`);
    }
  }

  if (args.length === 0) {
    const denoFiles = [...new Bun.Glob("test/runtime/deno/*.deno.ts").scanSync({ cwd: root })].sort();
    await runDeno("deno test", [bin("deno"), "test", "--allow-all", "--no-check", ...denoFiles], env);
    // The unit tests again, on Deno: bun:test is mapped to a small shim. The two that glob with
    // Bun's API (and only read files) stay Bun-only, and platform.test.ts runs both runtimes itself.
    const unitFiles = [...new Bun.Glob("test/unit/*.test.ts").scanSync({ cwd: root })].filter((f) => !BUN_ONLY_UNIT_TESTS.has(f)).sort();
    await runDeno("deno test (unit)", [bin("deno"), "test", "--allow-all", "--no-check", `--import-map=${DENO_BUN_TEST_MAP}`, ...unitFiles], env);
  }
}

const DENO_BUN_TEST_MAP = "test/runtime/deno/bun-test/import-map.json";
const BUN_ONLY_UNIT_TESTS = new Set(["test/unit/dockerfile.test.ts", "test/unit/env-example.test.ts", "test/unit/platform.test.ts"]);

/** Runs a `deno test` command and adds its summary to the totals. */
async function runDeno(label: string, cmd: string[], env: Record<string, string>): Promise<void> {
  const denoTest = await run(cmd, env);
  const dm = [...denoTest.out.matchAll(/(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/g)].pop();
  if (!dm) {
    failed++;
    problems.push(`${label} printed no summary (exit ${denoTest.code})`);
  } else {
    passed += Number(dm[1]);
    failed += Number(dm[2]);
  }
}

function redact(u: string | undefined): string {
  try {
    const p = new URL(u ?? "");
    return `${p.hostname}:${p.port}`;
  } catch {
    return "(set)";
  }
}

try {
  await main();
} catch (e) {
  failed++;
  problems.push(`test run aborted: ${(e as Error).message}`);
} finally {
  await stopAll().catch(() => {});
}
for (const p of problems) console.log(`problem: ${p}`);
const summary = `${passed} passed, ${failed} failed`;
mkdirSync(`${root}test/artifacts`, { recursive: true });
writeFileSync(`${root}test/artifacts/summary.txt`, summary + "\n");
console.log(summary);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
