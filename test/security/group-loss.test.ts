/**
 * Attack: a user removed from the last group that grants access (GATEHOUSE_ACCESS_GROUPS) keeps
 * using the token, API key and socket they already hold — on another instance than the one the
 * identity provider talked to. Group loss must end all of it within a second, as SCIM
 * `active: false` does; a user still in another access group keeps access.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startServerProcess, WS_SERVER_FIXTURE, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { within } from "../helpers/wait.ts";
import { filterQuery, scimClient, TEST_SCIM_TOKEN } from "../helpers/scim-client.ts";

const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

describe("group loss ends access on every instance (GATEHOUSE_ACCESS_GROUPS)", () => {
  const procs: ServerProcess[] = [];
  const sockets: TestSocket[] = [];
  let a: ServerProcess;
  let b: ServerProcess;
  const groupIds: Record<string, string> = {};
  const scimA = scimClient((path, init) => fetch(`${a.baseUrl}${path}`, init));

  beforeAll(async () => {
    const env = {
      DATABASE_URL: await freshDatabaseUrl("group_loss"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("gloss"),
      WEBUI_SECRET_KEY: "group-loss-secret", ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", GATEHOUSE_LOG_LEVEL: "warn",
      ENABLE_SCIM: "true", SCIM_TOKEN: TEST_SCIM_TOKEN, GATEHOUSE_ACCESS_GROUPS: "staff, contractors,interns",
    };
    [a, b] = await Promise.all([startServerProcess(env, WS_SERVER_FIXTURE), startServerProcess(env, WS_SERVER_FIXTURE)]);
    procs.push(a, b);
    const admin = await fetch(`${a.baseUrl}/api/v1/auths/signup`, postJson({ name: "admin", email: "admin@example.com", password: "pw" }));
    expect(admin.status).toBe(200); // the first user is the admin: never locked out by access groups
    for (const name of ["staff", "contractors", "interns", "unrelated"]) {
      const g = await scimA("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: name, members: [] });
      expect(g.status).toBe(201);
      groupIds[name] = g.body["id"] as string;
    }
  });
  afterAll(() => {
    for (const s of sockets) s.close();
    for (const p of procs) p.kill("SIGKILL");
  });

  const me = (server: ServerProcess, cred: string) => fetch(`${server.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${cred}` } });
  const signIn = (email: string) => fetch(`${b.baseUrl}/api/v1/auths/signin`, postJson({ email, password: "pw" }));
  const addTo = (group: string, id: string) =>
    scimA("PATCH", `/Groups/${groupIds[group]}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: id }] }] });
  // Entra ID's form of removing one member.
  const removeFrom = (group: string, id: string) =>
    scimA("PATCH", `/Groups/${groupIds[group]}`, { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${id}"]` }] });

  /** A user in `groups` holding a token, an API key and a joined /ws socket on B. */
  const member = async (email: string, groups: readonly string[]) => {
    const refused = await fetch(`${a.baseUrl}/api/v1/auths/signup`, postJson({ name: email.split("@")[0], email, password: "pw" }));
    expect(refused.status).toBe(403); // in no access group yet
    expect(((await refused.json()) as { detail: string }).detail).toContain("group that grants access");
    const found = await scimA("GET", `/Users${filterQuery(`userName eq "${email}"`)}`);
    const id = found.body.Resources![0]!["id"] as string;
    for (const g of groups) expect((await addTo(g, id)).status).toBe(200);
    const signedIn = await signIn(email);
    expect(signedIn.status).toBe(200);
    const token = ((await signedIn.json()) as { token: string }).token;
    const keyRes = await fetch(`${b.baseUrl}/api/v1/auths/api_key`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
    const apiKey = ((await keyRes.json()) as { api_key: string }).api_key;
    expect((await me(b, token)).status).toBe(200); // B's caches are warm
    expect((await me(b, apiKey)).status).toBe(200);
    const socket = await TestSocket.open(wsUrl(b.baseUrl));
    sockets.push(socket);
    expect((await socket.join(token)).event).toBe("ack");
    return { id, token, apiKey, socket };
  };

  test("SCIM PATCH on A removes the user from their last access group: token and API key refused on B, B's socket closed, within a second", async () => {
    const u = await member("leaver@example.com", ["staff", "unrelated"]);
    const started = performance.now();
    expect((await removeFrom("staff", u.id)).status).toBe(200);
    const took = await within(1000, async () => (await me(b, u.token)).status === 401 && (await me(b, u.apiKey)).status === 401);
    const closed = await u.socket.closedWithin(1000);
    console.log(`group loss on A → token and API key refused on B: ${took.toFixed(1)} ms (after the SCIM response); socket on B closed ${(performance.now() - started).toFixed(1)} ms after the request was sent`);
    expect(closed.code).toBe(4001);
    expect((await me(a, u.token)).status).toBe(401);
    const again = await signIn("leaver@example.com");
    expect(again.status).toBe(403);
    // Regaining an access group lets them sign in again (nothing else is restored).
    expect((await addTo("contractors", u.id)).status).toBe(200);
    expect((await signIn("leaver@example.com")).status).toBe(200);
    expect((await me(b, u.apiKey)).status).toBe(401);
  });

  test("deleting the user's last access group ends their access the same way", async () => {
    const u = await member("intern@example.com", ["interns"]);
    expect((await scimA("DELETE", `/Groups/${groupIds["interns"]}`)).status).toBe(204);
    await within(1000, async () => (await me(b, u.token)).status === 401 && (await me(b, u.apiKey)).status === 401);
    expect((await u.socket.closedWithin(1000)).code).toBe(4001);
  });

  test("a user still in another access group keeps the token, the API key and the socket", async () => {
    const u = await member("stayer@example.com", ["staff", "contractors"]);
    expect((await removeFrom("staff", u.id)).status).toBe(200);
    expect((await removeFrom("unrelated", u.id)).status).toBe(200);
    await Bun.sleep(300); // longer than a revocation takes to reach B (see the first test)
    expect((await me(b, u.token)).status).toBe(200);
    expect((await me(b, u.apiKey)).status).toBe(200);
    expect(u.socket.isOpen).toBe(true);
    expect((await signIn("stayer@example.com")).status).toBe(200);
  });
});
