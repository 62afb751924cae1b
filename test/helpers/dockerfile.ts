// Reads the repository's Dockerfile, .dockerignore and docker-compose.yml for tests, so a test can
// assert on them or run exactly what the container would run.
import { readFileSync } from "node:fs";
import { DockerfileParser, type Dockerfile, type Env, type From, type Healthcheck, type Instruction } from "dockerfile-ast";

export const ROOT = new URL("../..", import.meta.url).pathname;
export const DOCKERFILE_PATH = `${ROOT}Dockerfile`;
export const DOCKERIGNORE_PATH = `${ROOT}.dockerignore`;
export const COMPOSE_PATH = `${ROOT}docker-compose.yml`;

export function readDockerfile(): string {
  return readFileSync(DOCKERFILE_PATH, "utf8");
}

export function parseDockerfile(content = readDockerfile()): Dockerfile {
  return DockerfileParser.parse(content);
}

/** The instructions of each build stage, in order; each stage starts with its FROM. */
export function stages(df: Dockerfile = parseDockerfile()): Instruction[][] {
  const out: Instruction[][] = [];
  for (const ins of df.getInstructions()) {
    if (ins.getKeyword() === "FROM") out.push([ins]);
    else out.at(-1)?.push(ins); // ARGs before the first FROM belong to no stage
  }
  return out;
}

/** The stage the image is built from (the last one). */
export function finalStage(df: Dockerfile = parseDockerfile()): Instruction[] {
  const all = stages(df);
  const last = all.at(-1);
  if (!last) throw new Error("Dockerfile has no FROM");
  return last;
}

/** The build stage named `name` (`FROM … AS name`), for `docker build --target name`. */
export function namedStage(name: string, df: Dockerfile = parseDockerfile()): Instruction[] {
  const stage = stages(df).find((s) => (s[0] as From).getBuildStage() === name);
  if (!stage) throw new Error(`the Dockerfile has no stage named ${name}`);
  return stage;
}

/** Instructions with `keyword` in `stage`. */
export function instructionsOf(stage: Instruction[], keyword: string): Instruction[] {
  return stage.filter((i) => i.getKeyword() === keyword.toUpperCase());
}

/**
 * The argv of an exec-form (JSON array) argument list, or null for shell form. Docker treats the
 * arguments as exec form exactly when they parse as a JSON array of strings.
 */
export function execFormArgv(args: string | null): string[] | null {
  if (args === null) return null;
  const text = args.trim();
  if (!text.startsWith("[")) return null;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : null;
  } catch {
    return null;
  }
}

/**
 * The command the container runs: the final stage's ENTRYPOINT argv (exec form), followed by its
 * CMD argv when it has one. argv[0] is as written (`bun`, resolved on the image's PATH) and paths
 * are relative to the final WORKDIR (`/app`, i.e. the repository root here); a caller running it
 * outside the image substitutes its own bun for argv[0]. Throws when there is no ENTRYPOINT or it
 * is in shell form.
 */
export function entrypointCommand(stage: Instruction[] = finalStage()): string[] {
  const entrypoint = instructionsOf(stage, "ENTRYPOINT").at(-1);
  if (!entrypoint) throw new Error("the final Dockerfile stage has no ENTRYPOINT");
  const argv = execFormArgv(entrypoint.getArgumentsContent());
  if (!argv || argv.length === 0) {
    throw new Error(`the final ENTRYPOINT is not in exec form: ${entrypoint.getTextContent()}`);
  }
  const cmd = instructionsOf(stage, "CMD").at(-1);
  if (!cmd) return argv;
  const cmdArgv = execFormArgv(cmd.getArgumentsContent());
  if (!cmdArgv) throw new Error(`the final CMD is not in exec form: ${cmd.getTextContent()}`);
  return [...argv, ...cmdArgv];
}

/** `ENV` values set in `stage` (default: the final stage; later ones win). */
export function finalStageEnv(stage: Instruction[] = finalStage()): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of instructionsOf(stage, "ENV")) {
    for (const p of (ins as Env).getProperties()) {
      env[p.getName()] = p.getValue() ?? "";
    }
  }
  return env;
}

/** The final HEALTHCHECK: its options (`interval`, …) and its command (exec form argv, or the shell string). */
export function healthcheck(stage: Instruction[] = finalStage()): { options: Record<string, string>; argv: string[] | null; shell: string | null } | null {
  const hc = instructionsOf(stage, "HEALTHCHECK").at(-1) as Healthcheck | undefined;
  if (!hc || hc.getSubcommand()?.getValue().toUpperCase() !== "CMD") return null;
  const options: Record<string, string> = {};
  for (const f of hc.getFlags()) options[f.getName()] = f.getValue() ?? "";
  const command = (hc.getArgumentsContent() ?? "").replace(/^\s*CMD\s+/i, "");
  const argv = execFormArgv(command);
  return { options, argv, shell: argv ? null : command };
}

/** The rules of `.dockerignore`, in order (comments and blank lines dropped). */
export function dockerignoreRules(content = readFileSync(DOCKERIGNORE_PATH, "utf8")): string[] {
  return content
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

function patternToRegExp(pattern: string): RegExp {
  let re = "";
  const p = pattern.replace(/^\/+/, "").replace(/\/+$/, "");
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*" && p[i + 1] === "*") {
      if (p[i + 2] === "/") {
        re += "(?:.*/)?";
        i += 2;
      } else {
        re += ".*";
        i += 1;
      }
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether `.dockerignore` keeps `path` (relative to the context root) out of the build context,
 * as Docker decides it: a rule matches the path or one of its parent directories, the last
 * matching rule wins, `!` re-includes.
 */
export function isIgnored(path: string, rules = dockerignoreRules()): boolean {
  const parts = path.split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const rule of rules) {
    const negated = rule.startsWith("!");
    const re = patternToRegExp(negated ? rule.slice(1) : rule);
    if (candidates.some((c) => re.test(c))) ignored = !negated;
  }
  return ignored;
}
