/**
 * Passkeys over real HTTP on real Postgres and Redis, driven by a software authenticator:
 * passwordless sign-in, the second step with a passkey, and the attacks — a replayed
 * assertion (single-use challenge), a cloned authenticator's counter regression (refused and
 * audited), another user's passkey as the second factor, passkeys without a session.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveFreshApp, signUpOk, type ServedApp } from "../helpers/served-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { SoftPasskey } from "../helpers/soft-authenticator.ts";
import { loadConfig } from "../../src/config/config.ts";

const ORIGIN = "https://gatehouse.example";
let s: ServedApp;

beforeAll(async () => {
  s = await serveFreshApp("sec_passkeys", { ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", WEBUI_URL: ORIGIN });
});
afterAll(async () => {
  await s?.close();
});

const UA = "passkey-test/1.0";
async function post(path: string, body: unknown, opts: { token?: string; cookie?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { "user-agent": UA };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  return fetch(`${s.base}${path}`, postJson(body, headers));
}

/** Signs up a user and registers a soft passkey; returns both. */
async function userWithPasskey(name: string) {
  const u = await signUpOk(s, name, `${name}@example.com`, `pw-${name}-long-enough`);
  const options = (await (await post("/api/v1/auths/passkeys/register/options", {}, { token: u.token })).json()) as { challenge: string; rp: { id: string }; user: { id: string }; authenticatorSelection: { residentKey: string } };
  expect(options.rp.id).toBe("gatehouse.example");
  expect(options.authenticatorSelection.residentKey).toBe("required");
  const key = new SoftPasskey("gatehouse.example", ORIGIN, u.id);
  const r = await post("/api/v1/auths/passkeys/register/verify", { response: key.register(options), name: "Test key" }, { token: u.token });
  expect(r.status).toBe(200);
  const body = (await r.json()) as { passkey: { id: string; name: string }; recovery_codes: string[] | null };
  expect(body.passkey.name).toBe("Test key");
  expect(body.recovery_codes).toHaveLength(10);
  return { ...u, key, email: `${name}@example.com`, password: `pw-${name}-long-enough` };
}

async function passwordless(key: SoftPasskey, counter?: number): Promise<Response> {
  const options = (await (await post("/api/v1/auths/passkeys/authenticate/options", {})).json()) as { challenge: string; allowCredentials?: unknown[] };
  return post("/api/v1/auths/passkeys/authenticate/verify", { response: key.assert(options, counter) });
}

describe("passkeys", () => {
  test("passwordless sign-in with a discoverable passkey; the session records hwk", async () => {
    const u = await userWithPasskey("alice");
    const r = await passwordless(u.key);
    expect(r.status).toBe(200);
    const session = (await r.json()) as { token: string; id: string };
    expect(session.id).toBe(u.id);
    const sessions = (await (await fetch(`${s.base}/api/v1/auths/sessions`, { headers: { authorization: `Bearer ${session.token}` } })).json()) as Array<{ current: boolean; auth_method: string; amr: string[] }>;
    expect(sessions.find((x) => x.current)).toMatchObject({ auth_method: "passkey", amr: ["hwk"] });
    const list = (await (await fetch(`${s.base}/api/v1/auths/passkeys`, { headers: { authorization: `Bearer ${session.token}` } })).json()) as Array<{ last_used_at: number | null }>;
    expect(list).toHaveLength(1);
    expect(list[0]!.last_used_at).toBeNumber();
  });

  test("a replayed assertion is refused (the challenge is single use)", async () => {
    const u = await userWithPasskey("bob");
    const options = (await (await post("/api/v1/auths/passkeys/authenticate/options", {})).json()) as { challenge: string };
    const assertion = u.key.assert(options);
    expect((await post("/api/v1/auths/passkeys/authenticate/verify", { response: assertion })).status).toBe(200);
    expect((await post("/api/v1/auths/passkeys/authenticate/verify", { response: assertion })).status).toBe(400);
  });

  test("a cloned authenticator (counter not moving forward) is refused and audited", async () => {
    const u = await userWithPasskey("carol");
    expect((await passwordless(u.key)).status).toBe(200);
    expect((await passwordless(u.key)).status).toBe(200);
    const clone = await passwordless(u.key, 1);
    console.log(`counter regression (stored 2, presented 1): ${clone.status}`);
    expect(clone.status).toBe(400);
    expect(s.app.logText()).toContain("counter_regression");
    // The genuine authenticator goes on.
    expect((await passwordless(u.key)).status).toBe(200);
  });

  test("as a second factor: password, then the passkey; another user's passkey is refused", async () => {
    const u = await userWithPasskey("dave");
    const other = await userWithPasskey("erin");
    const first = await post("/api/v1/auths/signin", { email: u.email, password: u.password });
    const challenge = (await first.json()) as { mfa_required: boolean; mfa_token: string; methods: string[] };
    expect(challenge).toMatchObject({ mfa_required: true, methods: ["webauthn", "recovery_code"] });
    const cookie = first.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const optsFor = async () => (await (await post("/api/v1/auths/passkeys/authenticate/options", { mfa_token: challenge.mfa_token }, { cookie })).json()) as { challenge: string; allowCredentials: Array<{ id: string }> };
    const opts = await optsFor();
    expect(opts.allowCredentials.map((c) => c.id)).toEqual([Buffer.from(u.key.id).toString("base64url")]);
    const wrong = await post("/api/v1/auths/mfa/verify", { mfa_token: challenge.mfa_token, webauthn: other.key.assert(opts) }, { cookie });
    expect(wrong.status).toBe(400);
    const ok = await post("/api/v1/auths/mfa/verify", { mfa_token: challenge.mfa_token, webauthn: u.key.assert(await optsFor()) }, { cookie });
    expect(ok.status).toBe(200);
    const { token } = (await ok.json()) as { token: string };
    const sessions = (await (await fetch(`${s.base}/api/v1/auths/sessions`, { headers: { authorization: `Bearer ${token}` } })).json()) as Array<{ current: boolean; amr: string[] }>;
    expect(sessions.find((x) => x.current)?.amr).toEqual(["pwd", "hwk"]);
  });

  test("rename and delete need the owner's session; deleting the last passkey removes the second step", async () => {
    const u = await userWithPasskey("frank");
    const other = await signUpOk(s, "mallory", "mallory@example.com", "pw-mallory-long");
    const id = Buffer.from(u.key.id).toString("base64url");
    const patch = (token: string) => fetch(`${s.base}/api/v1/auths/passkeys/${id}`, { method: "PATCH", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ name: "Renamed" }) });
    expect((await patch(other.token)).status).toBe(404);
    expect((await patch(u.token)).status).toBe(200);
    expect((await post("/api/v1/auths/passkeys/register/options", {})).status).toBe(403);
    const del = (token: string) => fetch(`${s.base}/api/v1/auths/passkeys/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    expect((await del(other.token)).status).toBe(404);
    expect((await del(u.token)).status).toBe(200);
    const r = await post("/api/v1/auths/signin", { email: u.email, password: u.password });
    expect(((await r.json()) as { token?: string }).token).toBeString();
  });

  test("passkeys asked for without WEBUI_URL refuse to boot, unless localhost development is allowed", () => {
    expect(() => loadConfig({ WEBUI_SECRET_KEY: "k", GATEHOUSE_PASSKEYS: "true" })).toThrow("GATEHOUSE_PASSKEYS");
    expect(loadConfig({ WEBUI_SECRET_KEY: "k", GATEHOUSE_PASSKEYS: "true", GATEHOUSE_PASSKEYS_ALLOW_LOCALHOST: "true" }).mfa.passkeys).toBe(true);
    expect(loadConfig({ WEBUI_SECRET_KEY: "k" }).mfa.passkeys).toBe(false);
  });
});
