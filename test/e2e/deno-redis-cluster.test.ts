// The Deno entry on Redis Cluster (standalone Redis is covered by the mixed fleets in
// auth-multi-instance.test.ts and ws.test.ts): the store is up, and a sign-out revokes the token,
// which goes through the revocation keys and pub/sub. (Sentinel on Deno passed the same check
// once; it is left out of the suite because its five-process topology costs ≈ 10 s to start.)
import { afterAll, describe, expect, test } from "bun:test";
import { startRedisCluster } from "../harness/services.ts";
import { freshDatabaseUrl, uniquePrefix } from "../helpers/real-services.ts";
import { entryCommand, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function signOutRevokes(server: ServerProcess): Promise<void> {
  const ready = await fetch(`${server.baseUrl}/readyz`);
  expect(await ready.json()).toEqual({ status: true, checks: { postgres: "ok", store: "ok" } });
  const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, postJson({ name: "T", email: "t@example.com", password: "pw" }));
  expect(r.status).toBe(200);
  const { token } = (await r.json()) as { token: string };
  const me = () => fetch(`${server.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${token}` } });
  expect((await me()).status).toBe(200);
  expect((await fetch(`${server.baseUrl}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  expect((await me()).status).toBe(401);
}

describe("the Deno entry on Redis Cluster", () => {
  test("Cluster: REDIS_CLUSTER=true", async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    cleanup.push(() => cluster.stop());
    const seed = cluster.nodes[0]!;
    const server = await startServerProcess({
      DATABASE_URL: await freshDatabaseUrl("deno_cluster"), WEBUI_SECRET_KEY: "deno-cluster-secret", REDIS_KEY_PREFIX: uniquePrefix("deno-cluster"),
      REDIS_URL: `redis://${seed.host}:${seed.port}`, REDIS_CLUSTER: "true",
    }, entryCommand("deno"));
    cleanup.push(() => server.kill("SIGKILL"));
    expect(server.output()).toContain("Redis (cluster)");
    await signOutRevokes(server);
  }, 90_000);
});
