import type { CliCommand } from "./command.ts";
import type { CliContext } from "./cli-context.ts";
import { configFindings, skewFinding, type Finding } from "./doctor-checks.ts";
import { RedisStore } from "../kv/redis.ts";
import { withTimeout } from "../with-timeout.ts";

async function postgresFindings(ctx: CliContext): Promise<Finding[]> {
  try {
    const pool = await withTimeout(ctx.pool({ migrated: false }), 10_000, "PostgreSQL");
    const sent = Date.now();
    const row = await withTimeout(pool.run("doctor.postgres", async (c) =>
      (await c<{ version: string; now: Date; max: string }[]>`select version() as version, now() as now, current_setting('max_connections') as max`)[0]!), 5_000, "PostgreSQL");
    const received = Date.now();
    const f: Finding[] = [{ status: "OK", check: "postgres", detail: row.version.split(" on ")[0]! }];
    f.push(skewFinding("postgres clock", row.now.getTime(), sent, received));
    const perInstance = ctx.config.db.poolSize + ctx.config.db.maxOverflow;
    const max = Number(row.max);
    f.push(perInstance >= max
      ? { status: "FAIL", check: "pool size", detail: `DATABASE_POOL_SIZE + DATABASE_POOL_MAX_OVERFLOW = ${perInstance} per instance, server max_connections = ${max}`, fix: "lower the pool (it does not need to grow with concurrent users: long requests hold no connection) or raise max_connections" }
      : { status: "OK", check: "pool size", detail: `${perInstance} connections per instance of max_connections ${max} (room for ${Math.floor((max - 3) / perInstance)} instances)` });
    return f;
  } catch (e) {
    return [{ status: "FAIL", check: "postgres", detail: (e as Error).message, fix: ctx.config.db.url === null ? "set DATABASE_URL (or pass --embedded with Gatehouse stopped)" : "check DATABASE_URL's host, port, credentials and that the server accepts connections" }];
  }
}

async function redisFindings(ctx: CliContext): Promise<Finding[]> {
  if (ctx.config.redis.url === null && ctx.config.redis.sentinelHosts.length === 0) return [];
  const store = ctx.store();
  try {
    await withTimeout(store.ping(), 5_000, "Redis");
    const f: Finding[] = [{ status: "OK", check: "redis", detail: `${store.kind} answers PING` }];
    if (store instanceof RedisStore && store.kind !== "cluster") {
      const sent = Date.now();
      const [seconds, micros] = (await withTimeout(store.client.call("TIME") as Promise<[string, string]>, 5_000, "Redis"));
      f.push(skewFinding("redis clock", Number(seconds) * 1000 + Number(micros) / 1000, sent, Date.now()));
    }
    return f;
  } catch (e) {
    return [{ status: "FAIL", check: "redis", detail: (e as Error).message, fix: "check REDIS_URL (or the Sentinel settings) and that Redis accepts connections from here" }];
  }
}

/** `doctor`: configuration, Postgres, Redis, clocks and keys, one line per check with a fix. */
export const doctorCommand: CliCommand = {
  name: "doctor",
  usage: "doctor",
  summary: "check configuration, PostgreSQL, Redis, clock skew and keys, and print fixes",
  async run(ctx) {
    const findings = [{ status: "OK", check: "configuration", detail: "every variable parsed" } as Finding, ...configFindings(ctx.config), ...(await postgresFindings(ctx)), ...(await redisFindings(ctx))];
    for (const f of findings) {
      ctx.out(`${f.status.padEnd(4)} ${f.check}: ${f.detail}`);
      if (f.fix && f.status !== "OK") ctx.out(`     fix: ${f.fix}`);
    }
    const failed = findings.filter((f) => f.status === "FAIL").length;
    const warned = findings.filter((f) => f.status === "WARN").length;
    ctx.out(`${failed} failed, ${warned} warnings, ${findings.length - failed - warned} ok`);
    return failed > 0 ? 1 : 0;
  },
};
