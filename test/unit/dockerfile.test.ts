// The container build (Dockerfile, .dockerignore) and docker-compose.yml, checked statically:
// no Docker daemon is needed. The HEALTHCHECK command is also run for real against a local server.
import { test, expect, describe } from "bun:test";
import { readFileSync } from "node:fs";
import { validate } from "dockerfile-utils";
import type { Copy, From } from "dockerfile-ast";
import {
  COMPOSE_PATH,
  ROOT,
  entrypointCommand,
  execFormArgv,
  finalStage,
  finalStageEnv,
  healthcheck,
  instructionsOf,
  isIgnored,
  namedStage,
  parseDockerfile,
  readDockerfile,
  stages,
} from "../helpers/dockerfile.ts";

const BUN = `${ROOT}node_modules/.bin/bun`;
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { scripts: Record<string, string> };
const lock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, "utf8")) as {
  packages: Record<string, { version?: string }>;
};

/** Shell commands in RUN instructions, split at `&&`, `||`, `;` and newlines. */
function runCommands(stage: ReturnType<typeof finalStage>): string[] {
  return instructionsOf(stage, "RUN").flatMap((r) =>
    (r.getArgumentsContent() ?? "")
      .split(/&&|\|\||;|\n/)
      .map((c) => c.trim().replace(/\s+/g, " "))
      .filter(Boolean),
  );
}

const INSTALL = /^(?:npm (?:ci|install|i|add)|bun (?:install|i|add)|yarn(?: install)?|pnpm (?:install|i|add))(?: |$)/;

/** Every package-manager install command in the Dockerfile, with the index of its stage. */
function installCommands(): Array<{ stage: number; command: string }> {
  return stages().flatMap((s, stage) =>
    runCommands(s)
      .filter((c) => INSTALL.test(c))
      .map((command) => ({ stage, command })),
  );
}

describe("Dockerfile", () => {
  test("is multi-stage (at least two FROM instructions)", () => {
    expect(parseDockerfile().getFROMs().length).toBeGreaterThanOrEqual(2);
  });

  test("final stage is FROM oven/bun:<x.y.z>-slim with an exact version (no latest, no floating tag)", () => {
    const from = finalStage()[0] as From;
    expect(from.getKeyword()).toBe("FROM");
    expect(from.getRegistry()).toBeNull();
    expect(from.getImageName()).toBe("oven/bun");
    expect(from.getImageTag() ?? "").toMatch(/^\d+\.\d+\.\d+-slim$/);
    const digest = from.getImageDigest();
    if (digest !== null) expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test("runtime image's bun version is the bun the test suite runs on (package-lock.json)", () => {
    const tag = (finalStage()[0] as From).getImageTag() ?? "";
    expect(tag.replace(/-slim$/, "")).toBe(lock.packages["node_modules/bun"]?.version ?? "(bun missing from package-lock.json)");
  });

  test("dependencies are installed frozen from the committed lockfile (npm ci / --frozen-lockfile)", () => {
    const installs = installCommands();
    expect(installs.length).toBeGreaterThan(0);
    for (const { stage, command } of installs) {
      const frozen = /^npm ci(?: |$)/.test(command) || / --frozen-lockfile(?: |$)/.test(command);
      expect({ command, frozen }).toEqual({ command, frozen: true });
      // npm ci reads package-lock.json, the project's lockfile; the stage must bring it in.
      const copied = instructionsOf(stages()[stage]!, "COPY").flatMap((c) => c.getArguments().map((a) => a.getValue()));
      expect(copied).toContain("package-lock.json");
    }
  });

  test("dependencies are production-only (--omit=dev / --production)", () => {
    const installs = installCommands();
    expect(installs.length).toBeGreaterThan(0);
    for (const { command } of installs) {
      const prodOnly = / --omit=dev(?: |$)/.test(command) || / --production(?: |$)/.test(command);
      expect({ command, prodOnly }).toEqual({ command, prodOnly: true });
    }
  });

  test("final stage's node_modules come from the production install stage", () => {
    const all = stages();
    const installStages = new Set(installCommands().map((i) => i.stage));
    const names = all.map((s) => (s[0] as From).getBuildStage());
    const final = finalStage();
    const copiesFromInstall = instructionsOf(final, "COPY").some((c) => {
      const from = (c as Copy).getFromFlag()?.getValue() ?? null;
      const idx = from === null ? -1 : /^\d+$/.test(from) ? Number(from) : names.indexOf(from);
      return installStages.has(idx) && c.getArguments().some((a) => /node_modules\/?$/.test(a.getValue()));
    });
    expect(copiesFromInstall || installStages.has(all.length - 1)).toBe(true);
  });

  test("final stage copies src/, workers/ and package.json", () => {
    const sources = instructionsOf(finalStage(), "COPY")
      .filter((c) => (c as Copy).getFromFlag() === null)
      .flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue().replace(/^\.\//, "").replace(/\/$/, "")));
    expect(sources).toEqual(expect.arrayContaining(["src", "workers", "package.json"]));
  });

  test("final stage sets NODE_ENV=production, HOST=0.0.0.0, PORT=8080 and exposes 8080", () => {
    expect(finalStageEnv()).toMatchObject({ NODE_ENV: "production", HOST: "0.0.0.0", PORT: "8080" });
    const exposed = instructionsOf(finalStage(), "EXPOSE").flatMap((e) => e.getArguments().map((a) => a.getValue()));
    expect(exposed.some((p) => p === "8080" || p === "8080/tcp")).toBe(true);
  });

  test("final stage runs as a non-root USER", () => {
    const user = instructionsOf(finalStage(), "USER").at(-1);
    expect(user).toBeDefined();
    const name = (user!.getArgumentsContent() ?? "").split(":")[0]!.trim();
    expect(name).not.toBe("");
    expect(["root", "0"]).not.toContain(name);
  });

  test("WORKDIR is /app and /app/data is made writable by the runtime USER", () => {
    const final = finalStage();
    expect(instructionsOf(final, "WORKDIR").at(-1)?.getArgumentsContent()).toBe("/app");
    const user = (instructionsOf(final, "USER").at(-1)?.getArgumentsContent() ?? "").trim();
    const uid = user.split(":")[0]!;
    const chowns = runCommands(final).filter((c) => /^chown /.test(c) && / \/app\/data(?: |\/?$)/.test(c));
    expect(chowns.some((c) => c.startsWith(`chown ${user} `) || c.startsWith(`chown ${uid}:`) || c.startsWith(`chown ${uid} `))).toBe(true);
  });

  test("ENTRYPOINT exists and is in exec (JSON array) form", () => {
    const entrypoint = instructionsOf(finalStage(), "ENTRYPOINT").at(-1);
    expect(entrypoint).toBeDefined();
    const argv = execFormArgv(entrypoint!.getArgumentsContent());
    expect(argv).not.toBeNull();
    expect(argv!.length).toBeGreaterThan(0);
  });

  test("ENTRYPOINT runs the same command as `npm start` (bun, header limit, src/main.ts)", () => {
    const words = pkg.scripts["start"]!.trim().split(/\s+/);
    // Leading VAR=value words of the start script are environment, which the image sets with ENV.
    const env = words.filter((w, i) => words.slice(0, i + 1).every((x) => /^[A-Z_][A-Z0-9_]*=/.test(x)));
    expect(entrypointCommand()).toEqual(words.slice(env.length));
    const imageEnv = finalStageEnv();
    for (const assignment of env) {
      const [name, value] = assignment.split("=", 2) as [string, string];
      expect(imageEnv[name]).toBe(value);
    }
    expect(entrypointCommand()[0]).toBe("bun");
    expect(entrypointCommand().at(-1)).toBe("src/main.ts");
  });

  test("STOPSIGNAL is SIGTERM", () => {
    const stop = instructionsOf(finalStage(), "STOPSIGNAL").at(-1);
    expect(stop?.getArgumentsContent()?.trim()).toBe("SIGTERM");
  });

  test("HEALTHCHECK exists, runs bun and targets /livez", () => {
    const hc = healthcheck();
    expect(hc).not.toBeNull();
    expect(hc!.argv).not.toBeNull(); // exec form: no shell needed in the image
    expect(hc!.argv![0]).toBe("bun");
    expect(hc!.argv!.join(" ")).toContain("/livez");
    expect(Object.keys(hc!.options)).toEqual(expect.arrayContaining(["interval", "timeout", "retries"]));
  });

  test("HEALTHCHECK command exits 0 on a 200 from /livez and non-zero on 503 or no listener", async () => {
    const argv = healthcheck()!.argv!;
    const run = async (port: number) => {
      const proc = Bun.spawn([BUN, ...argv.slice(1)], {
        cwd: "/tmp", // like the image: no bunfig.toml or test preload in the way
        env: { PATH: process.env["PATH"] ?? "", PORT: String(port) },
        stdout: "ignore",
        stderr: "ignore",
      });
      return proc.exited;
    };
    let status = 200;
    const paths: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        paths.push(new URL(req.url).pathname);
        return new Response("{}", { status });
      },
    });
    try {
      expect(await run(server.port!)).toBe(0);
      expect(paths).toEqual(["/livez"]);
      status = 503;
      expect(await run(server.port!)).not.toBe(0);
    } finally {
      await server.stop(true);
    }
    expect(await run(server.port!)).not.toBe(0); // nothing listening any more
  });

  test("dockerfile-utils lint reports no errors", () => {
    const diagnostics = validate(readDockerfile());
    // vscode-languageserver-types DiagnosticSeverity: 1 = Error, 2 = Warning.
    const show = (d: (typeof diagnostics)[number]) =>
      `${d.range.start.line + 1}:${d.range.start.character + 1} [${d.severity === 1 ? "error" : "warning"}] ${d.message}`;
    const errors = diagnostics.filter((d) => d.severity === 1);
    const warnings = diagnostics.filter((d) => d.severity !== 1);
    expect(errors.map(show), `dockerfile-utils errors (warnings besides: ${JSON.stringify(warnings.map(show))})`).toEqual([]);
  });

  test("dockerfile-utils lint reports no warnings either", () => {
    const warnings = validate(readDockerfile()).filter((d) => d.severity !== 1);
    expect(warnings.map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });
});

describe("Dockerfile --target deno", () => {
  const deno = () => namedStage("deno");

  test("is FROM denoland/deno:debian-<x.y.z>, the deno version the test suite runs on (package-lock.json)", () => {
    const from = deno()[0] as From;
    expect(from.getImageName()).toBe("denoland/deno");
    expect(from.getImageTag()).toBe(`debian-${lock.packages["node_modules/deno"]?.version ?? "(deno missing from package-lock.json)"}`);
  });

  test("is not the default target (the last stage stays Bun)", () => {
    expect((finalStage()[0] as From).getImageName()).toBe("oven/bun");
  });

  test("takes node_modules from the production install stage and copies src/, workers/ and package.json", () => {
    const copies = instructionsOf(deno(), "COPY") as Copy[];
    expect(copies.some((c) => c.getFromFlag()?.getValue() === "deps" && c.getArguments().some((a) => /node_modules\/?$/.test(a.getValue())))).toBe(true);
    const sources = copies.filter((c) => c.getFromFlag() === null).flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue().replace(/^\.\//, "").replace(/\/$/, "")));
    expect(sources).toEqual(expect.arrayContaining(["src", "workers", "package.json"]));
  });

  test("sets NODE_ENV=production, HOST=0.0.0.0, PORT=8080, exposes 8080, stops on SIGTERM", () => {
    expect(finalStageEnv(deno())).toMatchObject({ NODE_ENV: "production", HOST: "0.0.0.0", PORT: "8080" });
    expect(instructionsOf(deno(), "EXPOSE").flatMap((e) => e.getArguments().map((a) => a.getValue()))).toContain("8080");
    expect(instructionsOf(deno(), "STOPSIGNAL").at(-1)?.getArgumentsContent()?.trim()).toBe("SIGTERM");
  });

  test("runs as a non-root USER that owns /app/data", () => {
    const user = (instructionsOf(deno(), "USER").at(-1)?.getArgumentsContent() ?? "").trim();
    expect(user).not.toBe("");
    expect(["root", "0"]).not.toContain(user.split(":")[0]);
    expect(runCommands(deno()).some((c) => c.startsWith(`chown ${user} `) && c.includes("/app/data"))).toBe(true);
  });

  test("ENTRYPOINT (exec form) runs the same command as `npm run start:deno`", () => {
    expect(entrypointCommand(deno())).toEqual(pkg.scripts["start:deno"]!.trim().split(/\s+/));
    expect(entrypointCommand(deno()).at(-1)).toBe("src/main.deno.ts");
  });

  test("HEALTHCHECK runs deno against /livez, in exec form", () => {
    const hc = healthcheck(deno());
    expect(hc?.argv?.[0]).toBe("deno");
    expect(hc!.argv!.join(" ")).toContain("/livez");
    expect(Object.keys(hc!.options)).toEqual(expect.arrayContaining(["interval", "timeout", "retries"]));
  });

  test("HEALTHCHECK command exits 0 on a 200 from /livez and non-zero on 503", async () => {
    const argv = healthcheck(deno())!.argv!;
    const run = (port: number) =>
      Bun.spawn([`${ROOT}node_modules/.bin/deno`, ...argv.slice(1)], { cwd: "/tmp", env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", PORT: String(port) }, stdout: "ignore", stderr: "ignore" }).exited;
    let status = 200;
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("{}", { status }) });
    try {
      expect(await run(server.port!)).toBe(0);
      status = 503;
      expect(await run(server.port!)).not.toBe(0);
    } finally {
      await server.stop(true);
    }
  });
});

describe(".dockerignore", () => {
  test("keeps node_modules, .git, data and .env out of the build context", () => {
    for (const path of ["node_modules", "node_modules/elysia/package.json", ".git", ".git/HEAD", "data", "data/pglite/PG_VERSION", "data/.webui_secret_key", ".env"]) {
      expect({ path, ignored: isIgnored(path) }).toEqual({ path, ignored: true });
    }
  });

  test("does not exclude what the Dockerfile copies", () => {
    for (const path of ["package.json", "package-lock.json", "src", "src/main.ts", "workers", "workers/crypto.worker.ts"]) {
      expect({ path, ignored: isIgnored(path) }).toEqual({ path, ignored: false });
    }
  });
});

describe("docker-compose.yml", () => {
  type Service = {
    image?: string;
    build?: unknown;
    environment?: Record<string, string> | string[];
    depends_on?: Record<string, { condition?: string }> | string[];
    healthcheck?: { test?: string[] | string; disable?: boolean };
    ports?: string[];
    volumes?: string[];
  };
  const compose = () => Bun.YAML.parse(readFileSync(COMPOSE_PATH, "utf8")) as { services?: Record<string, Service>; volumes?: Record<string, unknown> };
  const service = (name: string) => compose().services?.[name];
  const healthTest = (s: Service | undefined) => {
    const t = s?.healthcheck?.test;
    return Array.isArray(t) ? t.join(" ") : (t ?? "");
  };
  const env = (s: Service | undefined): Record<string, string> =>
    Array.isArray(s?.environment)
      ? Object.fromEntries(s.environment.map((e) => [e.split("=")[0]!, e.slice(e.indexOf("=") + 1)]))
      : (s?.environment ?? {});

  test("defines the postgres, redis and gatehouse services", () => {
    expect(Object.keys(compose().services ?? {})).toEqual(expect.arrayContaining(["postgres", "redis", "gatehouse"]));
  });

  test("gatehouse is built from this Dockerfile and publishes 8080", () => {
    const g = service("gatehouse");
    const build = g?.build;
    expect(build === "." || (typeof build === "object" && build !== null && (build as { context?: string }).context === ".")).toBe(true);
    expect(g?.ports?.some((p) => String(p).endsWith(":8080"))).toBe(true);
  });

  test("gatehouse depends on postgres and redis with condition service_healthy", () => {
    expect(service("gatehouse")?.depends_on).toMatchObject({
      postgres: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
    });
  });

  test("postgres has a pg_isready healthcheck and its data on a named volume", () => {
    const pg = service("postgres");
    expect(healthTest(pg)).toContain("pg_isready");
    expect(pg?.healthcheck?.disable).not.toBe(true);
    const volume = pg?.volumes?.find((v) => v.endsWith(":/var/lib/postgresql/data"))?.split(":")[0];
    expect(volume).toBeDefined();
    expect(Object.keys(compose().volumes ?? {})).toContain(volume!);
  });

  test("redis has a redis-cli ping healthcheck", () => {
    const redis = service("redis");
    expect(healthTest(redis)).toContain("redis-cli");
    expect(healthTest(redis)).toContain("ping");
    expect(redis?.healthcheck?.disable).not.toBe(true);
  });

  test("gatehouse healthcheck is the Dockerfile's (bun against /livez)", () => {
    const t = service("gatehouse")?.healthcheck?.test;
    expect(Array.isArray(t)).toBe(true);
    expect((t as string[])[0]).toBe("CMD");
    expect((t as string[]).slice(1)).toEqual(healthcheck()!.argv!);
  });

  test("gatehouse gets DATABASE_URL, REDIS_URL and WEBUI_SECRET_KEY, defaulting to the compose services", () => {
    const e = env(service("gatehouse"));
    expect(Object.keys(e)).toEqual(expect.arrayContaining(["DATABASE_URL", "REDIS_URL", "WEBUI_SECRET_KEY"]));
    expect(e["DATABASE_URL"]).toMatch(/^\$\{DATABASE_URL:-postgres(?:ql)?:\/\/.*@postgres:5432\//);
    expect(e["REDIS_URL"]).toMatch(/^\$\{REDIS_URL:-redis:\/\/redis:6379/);
  });
});
