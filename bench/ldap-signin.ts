/**
 * LDAP sign-in latency against a real slapd on loopback: N sequential `POST /api/v1/auths/ldap`
 * through the in-process app (Postgres and Redis real, session issued and recorded), over
 * plain LDAP, StartTLS and ldaps; plus refusals (wrong password, unknown user) to show the
 * failure floor (the two refusals alternate, so both see the same floor). Reports p50/p99 per case.
 *   bun bench/ldap-signin.ts [--n 100]
 */
import { parseArgs } from "node:util";
import { startPostgres, startRedis, createDatabase, stopAll } from "../test/harness/services.ts";
import { startSlapd, LDAP_APP, LDAP_PEOPLE, LDAP_USERS } from "../test/harness/slapd.ts";
import { startTestApp } from "../test/helpers/test-app.ts";
import { machine, table, writeResults } from "./lib/results.ts";

const { values } = parseArgs({ options: { n: { type: "string", default: "100" } } });
const n = Number(values.n);
const [pg, redis, slapd] = await Promise.all([startPostgres(), startRedis(), startSlapd()]);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const modes: Array<[string, Record<string, string>]> = [
  ["plain", { LDAP_SERVER_PORT: String(slapd.port), LDAP_USE_TLS: "false" }],
  ["starttls", { LDAP_SERVER_PORT: String(slapd.port), GATEHOUSE_LDAP_STARTTLS: "true", LDAP_CA_CERT_FILE: slapd.caFile }],
  ["ldaps", { LDAP_SERVER_PORT: String(slapd.ldapsPort), LDAP_USE_TLS: "true", LDAP_CA_CERT_FILE: slapd.caFile }],
];
const rows: Array<Array<string | number>> = [];
const results: Record<string, { p50: number; p99: number; n: number }> = {};
try {
  for (const [mode, env] of modes) {
    const app = await startTestApp({
      DATABASE_URL: await createDatabase(pg.url, `bench_ldap_${mode}`),
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `bench-ldap-${mode}`,
      GATEHOUSE_LOG_LEVEL: "warn",
      GATEHOUSE_ACCESS_LOG: "false",
      GATEHOUSE_SIGNIN_RATE_LIMIT_PER_EMAIL: "1000000",
      GATEHOUSE_SIGNIN_RATE_LIMIT_PER_IP: "1000000",
      ENABLE_LDAP: "true",
      LDAP_SERVER_HOST: "127.0.0.1",
      LDAP_APP_DN: LDAP_APP.dn,
      LDAP_APP_PASSWORD: LDAP_APP.password,
      LDAP_SEARCH_BASE: LDAP_PEOPLE,
      ...env,
    });
    const post = (user: string, password: string) =>
      app.request("/api/v1/auths/ldap", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user, password }) });
    // The first sign-in creates the user (an argon2id hash): not part of the steady state.
    if ((await post("ada", LDAP_USERS.ada.password)).status !== 200) throw new Error(`${mode}: first sign-in failed`);
    const cases = [
      ["sign-in", "ada", LDAP_USERS.ada.password, 200],
      ["wrong password", "ada", "wrong", 400],
      ["unknown user", "nobody", "wrong", 400],
    ] as const;
    const ms: number[][] = cases.map(() => []);
    // Sign-ins first, then the two refusals alternated, so both see the same failure floor.
    const order = [...Array.from({ length: n }, () => 0), ...Array.from({ length: 2 * n }, (_, i) => 1 + (i % 2))];
    for (const c of order) {
      const [kind, user, password, status] = cases[c]!;
      const t = performance.now();
      const r = await post(user, password);
      await r.arrayBuffer();
      ms[c]!.push(performance.now() - t);
      if (r.status !== status) throw new Error(`${mode} ${kind}: status ${r.status}`);
    }
    cases.forEach(([kind], c) => {
      const p50 = quantile(ms[c]!, 0.5);
      const p99 = quantile(ms[c]!, 0.99);
      results[`${mode} ${kind}`] = { p50, p99, n };
      rows.push([mode, kind, n, p50.toFixed(2), p99.toFixed(2)]);
    });
    await app.close();
  }
} finally {
  await stopAll();
}
const md = table(["transport", "case", "n", "p50 ms", "p99 ms"], rows);
console.log(md);
writeResults("ldap-signin", { machine: machine(), results }, `# LDAP sign-in latency (sequential, in-process app, slapd on loopback)\n\n${md}\n`);
