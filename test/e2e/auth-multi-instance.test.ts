import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { entryCommand, MIXED_FLEET, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startTestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { startRedis } from "../harness/services.ts";
import { within } from "../helpers/wait.ts";
import { sample } from "../helpers/metrics-text.ts";
import { startFakeLlm, type FakeLlm } from "../../bench/fake-llm.ts";
import { decodeJwt } from "jose";

// A mixed fleet: Bun revokes, Deno must refuse (the reverse direction is in ws.test.ts, which runs
// both ways round and closes sockets on revocations from the other runtime).
for (const [runtimeA, runtimeB] of MIXED_FLEET) describe(`two instances sharing Postgres and Redis: A on ${runtimeA}, B on ${runtimeB}`, () => {
  const procs: ServerProcess[] = [];
  let a: ServerProcess;
  let b: ServerProcess;
  let prefix: string;
  let fake: FakeLlm;
  let adminToken: string;
  beforeAll(async () => {
    fake = startFakeLlm({ tokens: 5, intervalMs: 100, firstTokenMs: 100 });
    prefix = uniquePrefix(`multi_${runtimeA}`);
    const env = {
      DATABASE_URL: await freshDatabaseUrl(`multi_${runtimeA}`), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: prefix, WEBUI_SECRET_KEY: "multi-secret",
      ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", OPENAI_API_BASE_URL: fake.url,
    };
    a = await startServerProcess(env, entryCommand(runtimeA));
    procs.push(a);
    b = await startServerProcess(env, entryCommand(runtimeB));
    procs.push(b);
    // The first user is the admin; it grants the fake model to everyone.
    adminToken = (await signUp("admin@example.com")).token;
    const grant = await fetch(`${a.baseUrl}/api/v1/gateway/model-access`, postJson({ user_id: "*", model_id: "fake-gpt" }, { authorization: `Bearer ${adminToken}` }));
    expect(grant.status).toBe(200);
  });
  afterAll(async () => {
    for (const p of procs) p.kill("SIGKILL");
    await fake?.stop();
  });
  const me = (server: ServerProcess, token: string) => fetch(`${server.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${token}` } });
  const signUp = async (email: string) => {
    const r = await fetch(`${a.baseUrl}/api/v1/auths/signup`, postJson({ name: email, email, password: "pw" }));
    expect(r.status).toBe(200);
    return ((await r.json()) as { token: string; id: string });
  };

  test("each runtime's adapter records the socket peer: the device session's address is loopback, not unknown", async () => {
    for (const server of [a, b]) {
      const email = `peer-${server.port}@example.com`;
      const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, postJson({ name: email, email, password: "pw" }));
      expect(r.status).toBe(200);
      const { token } = (await r.json()) as { token: string };
      const sessions = (await (await fetch(`${server.baseUrl}/api/v1/auths/sessions`, { headers: { authorization: `Bearer ${token}` } })).json()) as Array<{ ip: string | null }>;
      expect(sessions.map((x) => x.ip?.replace(/^::ffff:/, ""))).toEqual(["127.0.0.1"]);
    }
  });

  test("pages on each runtime: a same-origin form sign-in sets the HttpOnly token cookie and opens the devices page; a cross-site post is refused", async () => {
    await signUp("pages@example.com");
    for (const server of [a, b]) {
      const form = (origin: string) => fetch(`${server.baseUrl}/auth/signin`, {
        method: "POST", redirect: "manual", body: new URLSearchParams({ email: "pages@example.com", password: "pw" }).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded", origin },
      });
      const refused = await form("https://evil.example");
      expect(refused.status).toBe(403);
      const signedIn = await form(server.baseUrl);
      expect(signedIn.status).toBe(303);
      const cookie = signedIn.headers.getSetCookie().find((c) => c.startsWith("token="));
      expect(cookie).toMatch(/^token=eyJ[^;]+;.*HttpOnly/i);
      const devices = await fetch(`${server.baseUrl}${signedIn.headers.get("location")}`, { headers: { cookie: cookie!.split(";")[0]! } });
      expect(devices.status).toBe(200);
      expect(await devices.text()).toContain("pages@example.com");
    }
  });

  test("the gateway on each runtime: 20 concurrent streams complete, and warm streams make no checkout before the call", async () => {
    const { token } = await signUp("streamer@example.com");
    for (const server of [a, b]) {
      expect((await fetch(`${server.baseUrl}/api/models`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const texts = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const r = await fetch(`${server.baseUrl}/api/chat/completions`, postJson({ model: "fake-gpt", stream: true, messages: [{ role: "user", content: `s${i}` }] }, { authorization: `Bearer ${token}` }));
        expect(r.status).toBe(200);
        return r.text();
      }));
      for (const t of texts) expect(t).toEndWith("data: [DONE]\n\n");
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      const route = { route: "/api/chat/completions" };
      expect(sample(metrics, "gatehouse_gateway_upstream_calls_total", { ...route, outcome: "completed" })).toBe(20);
      expect(sample(metrics, "gatehouse_db_request_checkouts_sum", route)).toBe(0);
    }
  });

  test("both runtimes export the same metric families", async () => {
    const families = async (server: ServerProcess) =>
      [...(await (await fetch(`${server.baseUrl}/metrics`)).text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!).sort();
    const [fromA, fromB] = await Promise.all([families(a), families(b)]);
    expect(fromA.length).toBeGreaterThan(50);
    expect(fromB).toEqual(fromA);
  });

  test("both runtimes write the same JSON log lines (startup line and access log fields)", async () => {
    for (const server of [a, b]) await (await fetch(`${server.baseUrl}/api/v1/auths/`, { headers: { "x-request-id": `same-logs-${server.port}` } })).text();
    const find = (server: ServerProcess, pick: (l: Record<string, unknown>) => boolean) =>
      server.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>).find(pick);
    const shape = (server: ServerProcess, pick: (l: Record<string, unknown>) => boolean) => Object.keys(find(server, pick)!).sort();
    const listening = (l: Record<string, unknown>) => String(l["msg"]).startsWith("Gatehouse listening on");
    const access = (server: ServerProcess) => (l: Record<string, unknown>) => l["msg"] === "request" && l["reqId"] === `same-logs-${server.port}`;
    // The child's output is read asynchronously: wait until both access lines arrived.
    await within(2000, async () => find(a, access(a)) !== undefined && find(b, access(b)) !== undefined);
    expect(shape(b, listening)).toEqual(shape(a, listening));
    expect(shape(b, access(b))).toEqual(shape(a, access(a)));
  });

  test("a sign-out on A is refused on B within one second", async () => {
    const { token } = await signUp("one@example.com");
    expect((await me(b, token)).status).toBe(200); // B's caches are warm
    expect((await fetch(`${a.baseUrl}/api/v1/auths/signout`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const took = await within(1000, async () => (await me(b, token)).status === 401);
    console.log(`revocation A → B: ${took.toFixed(1)} ms`);
  });

  test("a revocation written straight into Redis (Open WebUI style) is refused on both within one second", async () => {
    const { token } = await signUp("two@example.com");
    expect((await me(a, token)).status).toBe(200);
    expect((await me(b, token)).status).toBe(200);
    const jti = decodeJwt(token).jti as string;
    const raw = new Redis(await redisUrl());
    await raw.set(`${prefix}:auth:token:${jti}:revoked`, "1", "EX", 3600);
    raw.disconnect();
    const took = await within(1000, async () => (await me(a, token)).status === 401 && (await me(b, token)).status === 401);
    console.log(`direct Redis revocation → both: ${took.toFixed(1)} ms`);
  });

  test("a per-user revoked_at written into Redis is honoured on B", async () => {
    const { token, id } = await signUp("three@example.com");
    expect((await me(b, token)).status).toBe(200);
    const raw = new Redis(await redisUrl());
    await raw.set(`${prefix}:auth:user:${id}:revoked_at`, String(Math.floor(Date.now() / 1000) + 1));
    raw.disconnect();
    await within(1000, async () => (await me(b, token)).status === 401);
  });
});

describe("Redis outage", () => {
  for (const mode of ["closed", "open"] as const) {
    test(`GATEHOUSE_REDIS_FAILURE_MODE=${mode}: never a 500, and recovers without restart`, async () => {
      const redis = await startRedis();
      const app = await startTestApp({
        DATABASE_URL: await freshDatabaseUrl(`outage_${mode}`),
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: uniquePrefix("outage"),
        GATEHOUSE_REDIS_FAILURE_MODE: mode,
      });
      try {
        const r = await app.request("/api/v1/auths/signup", postJson({ name: "O", email: "o@example.com", password: "pw" }));
        const token = ((await r.json()) as { token: string }).token;
        const me = () => app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${token}` } });
        expect((await me()).status).toBe(200);
        await redis.stop();
        // The local replica notices the lost watch connection within moments; until then its answers stand.
        const statuses = new Set<number>();
        let during = await me();
        const deadline = performance.now() + 3000;
        while (performance.now() < deadline) {
          statuses.add(during.status);
          if (mode === "closed" ? during.status === 503 : statuses.size > 0 && performance.now() > deadline - 2500) break;
          await Bun.sleep(20);
          during = await me();
        }
        statuses.add(during.status);
        expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
        if (mode === "closed") {
          expect(during.status).toBe(503);
          expect(((await during.json()) as { detail: string }).detail).toContain("temporarily unavailable");
          expect(during.headers.get("retry-after")).toBe("1");
        } else {
          expect(app.instance.auth.revocation.warm).toBe(false);
          expect(during.status).toBe(200);
        }
        const ready = await app.request("/readyz");
        expect(ready.status).toBe(503);
        expect(((await ready.json()) as { checks: { store: string } }).checks.store).toStartWith("failed");
        const revived = await startRedis({ port: redis.port });
        try {
          // Open mode answers 200 all along, so recovery is the store being ready again, not me() alone.
          await within(15_000, async () => (await me()).status === 200 && (await app.request("/readyz")).status === 200);
          // Revocation works again after recovery.
          await app.request("/api/v1/auths/signout", { headers: { authorization: `Bearer ${token}` } });
          expect((await me()).status).toBe(401);
        } finally {
          await revived.stop();
        }
      } finally {
        await app.close();
      }
    });
  }
});
