import { freePort } from "../harness/services.ts";
import { scanForLeaks } from "./log-leaks.ts";

const root = new URL("../..", import.meta.url).pathname;

/** A runtime Gatehouse is served on. */
export type Runtime = "bun" | "deno";

/** Both runtimes: end-to-end files that must pass on each loop over this. */
export const RUNTIMES: readonly Runtime[] = ["bun", "deno"];

/** A one-Bun, one-Deno fleet on the same Postgres and Redis (and the reverse). */
export const MIXED_FLEETS: readonly (readonly [Runtime, Runtime])[] = [["bun", "deno"], ["deno", "bun"]];

/** One mixed fleet, for files where one direction suffices (the runtime-neutral part is covered both ways elsewhere). */
export const MIXED_FLEET: readonly [readonly [Runtime, Runtime]] = [["bun", "deno"]];

/** The command line that runs `script` (relative to the repo root) on `runtime`, as `npm start` / `npm run start:deno` do. */
export function runtimeCommand(runtime: Runtime, script: string): string[] {
  return runtime === "bun"
    ? [`${root}node_modules/.bin/bun`, "--max-http-header-size=262144", script]
    : [`${root}node_modules/.bin/deno`, "run", "-A", "--v8-flags=--expose-gc", script];
}

/** The real entry point of `runtime`: src/main.ts on Bun, src/main.deno.ts on Deno. */
export function entryCommand(runtime: Runtime): string[] {
  return runtimeCommand(runtime, runtime === "bun" ? "src/main.ts" : "src/main.deno.ts");
}

/** test/fixtures/ws-server.ts on `runtime`: the real entry's boot plus test-only emit routes. */
export function wsServerFixture(runtime: Runtime): string[] {
  return runtimeCommand(runtime, "test/fixtures/ws-server.ts");
}

/** The command line of test/fixtures/ws-server.ts on Bun. */
export const WS_SERVER_FIXTURE = wsServerFixture("bun");

/** A Gatehouse (or fixture) process started by a test, with its output kept. */
export interface ServerProcess {
  baseUrl: string;
  port: number;
  proc: ReturnType<typeof Bun.spawn>;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Spawns `argv` (default: the real entry point) with `env` on a free port, and waits until
 * `/livez` answers (or the process exits, which fails with its output).
 */
export async function startServerProcess(env: Record<string, string>, argv?: string[], waitForLive = true): Promise<ServerProcess> {
  const port = env["PORT"] ? Number(env["PORT"]) : await freePort();
  const cmd = argv ?? entryCommand("bun");
  const proc = Bun.spawn(cmd, {
    cwd: root,
    // No drain delay unless a test asks for one (blank: the default): tests stop many servers.
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", GATEHOUSE_LOG_LEVEL: "info", GATEHOUSE_SHUTDOWN_DRAIN_DELAY_MS: "0", ...env, PORT: String(port) },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder();
    let partial = "";
    for await (const c of s) {
      const text = d.decode(c, { stream: true });
      out += text;
      // Whole lines only, so a line split across chunks is still seen whole.
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      scanForLeaks(`process ${cmd.join(" ").slice(-40)}`, lines.join("\n"));
    }
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  const handle: ServerProcess = {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    proc,
    output: () => out,
    exited: proc.exited,
    kill: (signal = "SIGTERM") => proc.kill(signal),
  };
  if (!waitForLive) return handle;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  for (let i = 0; i < 600; i++) {
    if (exited) throw new Error(`server exited during start-up (code ${proc.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${handle.baseUrl}/livez`);
      if (r.ok) return handle;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  proc.kill("SIGKILL");
  throw new Error(`server did not answer /livez within 60 s:\n${out}`);
}
