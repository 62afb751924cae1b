import { afterAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl } from "../helpers/real-services.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { bearer, signUpToken } from "./revocation-helpers.ts";

/**
 * Issue 12, hole 14: a user's revoked_at (sign out everywhere) also disables API keys
 * created before it; a password change alone does not.
 */
describe("API keys and a user's revoked_at", () => {
  let s: ServerProcess | undefined;
  afterAll(() => s?.kill("SIGKILL"));

  test("password change keeps the key; sign out everywhere disables it; a key made afterwards works", async () => {
    s = await startServerProcess({
      DATABASE_URL: await freshDatabaseUrl("rev_apikey"), WEBUI_SECRET_KEY: "revocation-apikey-secret-0123456789",
      ENABLE_SIGNUP: "true", DEFAULT_USER_ROLE: "user", ENABLE_API_KEYS: "true",
    });
    const base = s.baseUrl;
    const token = await signUpToken(base, "keys@example.com");
    const newKey = async (t: string) => {
      const r = await fetch(`${base}/api/v1/auths/api_key`, { method: "POST", ...bearer(t) });
      expect(r.status).toBe(200);
      return ((await r.json()) as { api_key: string }).api_key;
    };
    const withKey = async (key: string) => (await fetch(`${base}/api/v1/auths/`, bearer(key))).status;
    const key = await newKey(token);
    expect(await withKey(key)).toBe(200);

    const changed = await fetch(`${base}/api/v1/auths/update/password`, bearer(token, postJson({ password: "pw-revocation-1", new_password: "pw-revocation-2" })));
    expect(changed.status).toBe(200);
    expect(await withKey(key)).toBe(200);

    expect((await fetch(`${base}/api/v1/auths/signout/everywhere`, { method: "POST", ...bearer(token) })).status).toBe(200);
    expect(await withKey(key)).toBe(401);

    const again = await fetch(`${base}/api/v1/auths/signin`, postJson({ email: "keys@example.com", password: "pw-revocation-2" }));
    expect(again.status).toBe(200);
    const fresh = await newKey(((await again.json()) as { token: string }).token);
    expect(await withKey(fresh)).toBe(200);
    expect(await withKey(key)).toBe(401);
  });
});
