import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { within } from "../helpers/wait.ts";
import { filterQuery, scimClient, TEST_SCIM_TOKEN } from "../helpers/scim-client.ts";

describe("SCIM deprovisioning across two instances sharing Postgres and Redis", () => {
  const procs: ServerProcess[] = [];
  const sockets: TestSocket[] = [];
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    const env = {
      DATABASE_URL: await freshDatabaseUrl("scim_multi"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("scim"),
      WEBUI_SECRET_KEY: "scim-multi-secret", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
      ENABLE_SCIM: "true", SCIM_TOKEN: TEST_SCIM_TOKEN,
    };
    [a, b] = await Promise.all([startServerProcess(env, WS_SERVER_FIXTURE), startServerProcess(env, WS_SERVER_FIXTURE)]);
    procs.push(a, b);
  });
  afterAll(() => {
    for (const s of sockets) s.close();
    for (const p of procs) p.kill("SIGKILL");
  });

  const signUp = async (email: string) => {
    const r = await fetch(`${a.baseUrl}/api/v1/auths/signup`, postJson({ name: email.split("@")[0], email, password: "pw" }));
    expect(r.status).toBe(200);
    return (await r.json()) as { token: string; id: string };
  };
  const me = (server: ServerProcess, cred: string) => fetch(`${server.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${cred}` } });
  const scimA = scimClient((path, init) => fetch(`${a.baseUrl}${path}`, init));

  for (const [what, deprovision] of [
    ["PATCH active:false (Entra ID's string form)", (id: string) => scimA("PATCH", `/Users/${id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Replace", path: "active", value: "False" }] })],
    ["DELETE", (id: string) => scimA("DELETE", `/Users/${id}`)],
  ] as const) {
    test(`${what} on A: the token and API key are refused on B and B's socket is closed within a second`, async () => {
      await signUp(`first-${what.length}@example.com`); // keeps the deprovisioned user from being the admin
      const email = `leaver-${what.length}@example.com`;
      const u = await signUp(email);
      const keyRes = await fetch(`${b.baseUrl}/api/v1/auths/api_key`, { method: "POST", headers: { authorization: `Bearer ${u.token}`, "content-type": "application/json" }, body: "{}" });
      const apiKey = ((await keyRes.json()) as { api_key: string }).api_key;
      expect((await me(b, u.token)).status).toBe(200); // B's caches are warm
      expect((await me(b, apiKey)).status).toBe(200);
      const socket = await TestSocket.open(wsUrl(b.baseUrl));
      sockets.push(socket);
      expect((await socket.join(u.token)).event).toBe("ack");

      const found = await scimA("GET", `/Users${filterQuery(`userName eq "${email}"`)}`);
      const id = found.body.Resources![0]!["id"] as string;
      const started = performance.now();
      const r = await deprovision(id);
      expect(r.status).toBeLessThan(300);
      const took = await within(1000, async () => (await me(b, u.token)).status === 401 && (await me(b, apiKey)).status === 401);
      const closed = await socket.closedWithin(1000);
      console.log(`SCIM ${what} on A → token and API key refused on B: ${took.toFixed(1)} ms (after the SCIM response); socket on B closed ${(performance.now() - started).toFixed(1)} ms after the request was sent`);
      expect(closed.code).toBe(4001);
      expect((await me(a, u.token)).status).toBe(401);
    });
  }
});
