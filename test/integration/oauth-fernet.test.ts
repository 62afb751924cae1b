import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { SessionCipher } from "../../src/oauth/session-cipher.ts";
import { tokenDictFrom } from "../../src/oauth/token-dict.ts";
import rawVectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };

const PY = "/usr/bin/python3";
const SCRIPT = new URL("../fixtures/oauth_session_fernet.py", import.meta.url).pathname;

const vectors = rawVectors as unknown as Record<string, string>;

function python(...args: string[]): string {
  const r = Bun.spawnSync([PY, SCRIPT, ...args]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString();
}

describe("oauth_session Fernet interop with Open WebUI (Python cryptography)", () => {
  let app: TestApp;
  let cipher: SessionCipher;
  let userId: string;
  beforeAll(async () => {
    app = await startTestApp({ DATABASE_URL: await freshDatabaseUrl("oauth_fernet"), REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix("oauth-fernet") });
    cipher = await SessionCipher.create(app.services.crypto, "test-webui-secret-key");
    const user = await app.instance.auth.users.insert({ id: crypto.randomUUID(), email: "py@example.com", name: "Py", role: "user", passwordHash: "x", oauth: { oidc: { sub: "py-sub" } } });
    userId = user.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  test("the compat vector decrypts with the key derived from WEBUI_SECRET_KEY", async () => {
    const dict = await cipher.decrypt(vectors["fernet_token_fixed"]!);
    expect(dict).not.toBeNull();
    expect(JSON.parse(vectors["fernet_plaintext"]!)).toMatchObject({ access_token: dict!.access_token, expires_at: dict!.expires_at });
  });

  test("a row Python wrote is served by getOAuthToken", async () => {
    const now = Math.floor(Date.now() / 1000);
    const dict = { access_token: "py-access-é", token_type: "Bearer", refresh_token: "py-refresh", expires_in: 3600, scope: "openid email", expires_at: now + 3600, issued_at: now };
    const token = python("encrypt", "test-webui-secret-key", JSON.stringify(dict)).trim();
    const id = crypto.randomUUID();
    await app.instance.oauth.sessions.repo.insert({ id, user_id: userId, provider: "oidc", token, expires_at: dict.expires_at });
    expect(await app.instance.oauth.tokens.getOAuthToken(userId, id)).toEqual({ provider: "oidc", access_token: "py-access-é", expires_at: now + 3600 });
  });

  test("a row Gatehouse wrote decrypts in Python, in json.dumps format byte for byte", async () => {
    const dict = tokenDictFrom({ access_token: "gh-access", token_type: "Bearer", id_token: "a.b.c", refresh_token: "gh-refresh", expires_in: 1800, scope: "openid", ignored: { nested: 1 } }, 1_800_000_000);
    const id = await app.instance.oauth.sessions.create(userId, "oidc", dict);
    const row = await app.instance.oauth.sessions.repo.byId(id);
    const [plain, verdict] = python("decrypt", "test-webui-secret-key", row!.token).trim().split("\n");
    expect(verdict).toBe("REDUMP-EQUAL");
    expect(JSON.parse(plain!)).toEqual({ access_token: "gh-access", token_type: "Bearer", id_token: "a.b.c", refresh_token: "gh-refresh", expires_in: 1800, scope: "openid", expires_at: 1_800_001_800, issued_at: 1_800_000_000 });
  });

  test("a 44-character OAUTH_SESSION_TOKEN_ENCRYPTION_KEY is used verbatim on both sides", async () => {
    const key = vectors["fernet_key_44char_passthrough"]!;
    const c = await SessionCipher.create(app.services.crypto, key);
    const token = python("encrypt", key, JSON.stringify({ access_token: "k44", expires_at: 1, issued_at: 0 })).trim();
    expect((await c.decrypt(token))!.access_token).toBe("k44");
    expect(await cipher.decrypt(token)).toBeNull(); // another key: reported as unreadable, not thrown
  });

  test("an undecryptable row is skipped and reported, not deleted", async () => {
    const id = crypto.randomUUID();
    await app.instance.oauth.sessions.repo.insert({ id, user_id: userId, provider: "oidc", token: "gAAAAA-not-a-token", expires_at: 1 });
    await expect(app.instance.oauth.tokens.getOAuthToken(userId, id)).rejects.toMatchObject({ status: 404 });
    expect(await app.instance.oauth.sessions.repo.byId(id)).not.toBeNull();
    expect(app.logText()).toContain("does not decrypt");
  });
});
