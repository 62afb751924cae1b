/**
 * Makes sure the Redis and PostgreSQL 15 binaries the launcher needs exist, installing them
 * from the distribution when running as root, and failing loudly otherwise.
 */
import { existsSync } from "node:fs";
import { runCommand } from "./exec.ts";

/** Where Debian/Ubuntu's postgresql-15 package puts initdb, pg_ctl and postgres. */
export const PG_BIN = "/usr/lib/postgresql/15/bin";

const REDIS_COMMANDS = ["redis-server", "redis-sentinel", "redis-cli"] as const;
const REDIS_PACKAGES = ["redis-server", "redis-sentinel", "redis-tools"];
const PG_TOOLS = ["initdb", "pg_ctl", "postgres"] as const;

/** True when this process runs as uid 0. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

const APT_ENV = { DEBIAN_FRONTEND: "noninteractive" };
let aptUpdated = false;

async function aptInstall(packages: string[]): Promise<void> {
  if (!aptUpdated) {
    const update = await runCommand(["apt-get", "update"], { timeoutMs: 300_000, env: APT_ENV });
    if (update.code !== 0) throw new Error(`apt-get update failed (exit ${update.code}):\n${update.out.slice(-2000)}`);
    aptUpdated = true;
  }
  const install = await runCommand(["apt-get", "install", "-y", ...packages], { timeoutMs: 600_000, env: APT_ENV });
  if (install.code !== 0) {
    throw new Error(`apt-get install -y ${packages.join(" ")} failed (exit ${install.code}):\n${install.out.slice(-2000)}`);
  }
}

function missingRedis(): string[] {
  return REDIS_COMMANDS.filter((c) => Bun.which(c) === null);
}

function missingPostgres(): string[] {
  return PG_TOOLS.filter((t) => !existsSync(`${PG_BIN}/${t}`)).map((t) => `${PG_BIN}/${t}`);
}

/** Interop tests mint tokens and Fernet rows with the Python libraries Open WebUI uses. */
const PYTHON_PACKAGES = ["python3-jwt", "python3-cryptography"];

function missingPython(): boolean {
  return Bun.spawnSync(["/usr/bin/python3", "-c", "import jwt, cryptography"]).exitCode !== 0;
}

async function ensure(): Promise<void> {
  await ensureServers();
  if (missingPython()) {
    if (!isRoot()) throw new Error(`Python interop libraries missing: install them with \`sudo apt-get install -y python3 ${PYTHON_PACKAGES.join(" ")}\``);
    await aptInstall(["python3", ...PYTHON_PACKAGES]);
  }
}

async function ensureServers(): Promise<void> {
  const redis = missingRedis();
  const pg = missingPostgres();
  if (redis.length === 0 && pg.length === 0) return;
  if (!isRoot()) {
    const steps: string[] = [];
    if (redis.length > 0) steps.push(`${redis.join(", ")} not found on PATH: install them with \`sudo apt-get install -y ${REDIS_PACKAGES.join(" ")}\``);
    if (pg.length > 0) steps.push(`${pg.join(", ")} missing: install PostgreSQL 15 with \`sudo apt-get install -y postgresql-15\``);
    throw new Error(`test services need binaries that are not installed and this process is not root.\n${steps.join("\n")}`);
  }
  if (redis.length > 0) {
    await aptInstall(REDIS_PACKAGES);
    const still = missingRedis();
    if (still.length > 0) throw new Error(`installed ${REDIS_PACKAGES.join(" ")} but ${still.join(", ")} is still not on PATH`);
  }
  if (pg.length > 0) {
    try {
      await aptInstall(["postgresql-15"]);
    } catch (first) {
      // Distributions whose default major is 15 may only offer the `postgresql` metapackage.
      try {
        await aptInstall(["postgresql"]);
      } catch (second) {
        throw new Error(`could not install PostgreSQL 15:\n${(first as Error).message}\n${(second as Error).message}`);
      }
    }
    const still = missingPostgres();
    if (still.length > 0) throw new Error(`installed PostgreSQL but ${still.join(", ")} is missing (the distribution may ship another major version)`);
  }
}

let pending: Promise<void> | undefined;

/**
 * Ensures `redis-server`, `redis-sentinel`, `redis-cli`, PostgreSQL 15's `initdb`,
 * `pg_ctl` and `postgres`, and Python's jwt and cryptography modules exist. As root, missing ones are installed with apt-get
 * (`apt-get update` at most once per process); otherwise throws an Error naming the exact
 * packages to install. Concurrent callers share one attempt; a failed attempt is retried
 * by the next call.
 */
export function ensureBinaries(): Promise<void> {
  pending ??= ensure().catch((e: unknown) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

/** Where Debian's `chromium` package puts the browser the page tests drive. */
export const CHROMIUM = "/usr/bin/chromium";

let chromium: Promise<void> | undefined;

/**
 * Ensures Debian's Chromium exists for the browser tests, installing it with apt-get as
 * root; otherwise throws naming the package. Shared by concurrent callers; retried after a failure.
 */
export function ensureChromium(): Promise<void> {
  chromium ??= (async () => {
    if (existsSync(CHROMIUM)) return;
    if (!isRoot()) throw new Error(`${CHROMIUM} not found: install it with \`sudo apt-get install -y chromium\``);
    await aptInstall(["chromium"]);
    if (!existsSync(CHROMIUM)) throw new Error(`installed chromium but ${CHROMIUM} is still missing`);
  })().catch((e: unknown) => {
    chromium = undefined;
    throw e;
  });
  return chromium;
}

/** Debian's OpenLDAP server (with its overlay modules), its command-line tools and openssl for test certificates. */
export const SLAPD = "/usr/sbin/slapd";
const SLAPD_PACKAGES = ["slapd", "ldap-utils", "openssl"];

let slapd: Promise<void> | undefined;

/**
 * Ensures `slapd` (with the memberof module) and `openssl` exist for the LDAP tests, installing
 * slapd, ldap-utils and openssl with apt-get as root; otherwise throws naming the packages.
 * Shared by concurrent callers; retried after a failure.
 */
export function ensureSlapd(): Promise<void> {
  const missing = () => !existsSync(SLAPD) || !existsSync("/usr/lib/ldap/memberof.so") || Bun.which("openssl") === null;
  slapd ??= (async () => {
    if (!missing()) return;
    if (!isRoot()) throw new Error(`slapd or openssl not found: install them with \`sudo apt-get install -y ${SLAPD_PACKAGES.join(" ")}\``);
    await aptInstall(SLAPD_PACKAGES);
    if (missing()) throw new Error(`installed ${SLAPD_PACKAGES.join(" ")} but ${SLAPD} or its memberof module is still missing`);
  })().catch((e: unknown) => {
    slapd = undefined;
    throw e;
  });
  return slapd;
}

/** Where Debian's nginx package puts the binary the forward-auth tests run (as a child, never the service). */
export const NGINX = "/usr/sbin/nginx";

let nginx: Promise<void> | undefined;

/**
 * Ensures nginx exists for the forward-auth tests, installing `nginx` with apt-get as root;
 * otherwise throws naming the package. Shared by concurrent callers; retried after a failure.
 */
export function ensureNginx(): Promise<void> {
  nginx ??= (async () => {
    if (existsSync(NGINX)) return;
    if (!isRoot()) throw new Error(`${NGINX} not found: install it with \`sudo apt-get install -y nginx\``);
    await aptInstall(["nginx"]);
    if (!existsSync(NGINX)) throw new Error(`installed nginx but ${NGINX} is still missing`);
  })().catch((e: unknown) => {
    nginx = undefined;
    throw e;
  });
  return nginx;
}
