import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { CookieJar, postJson } from "../helpers/cookie-jar.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { SECRET_SHAPES } from "../helpers/log-leaks.ts";

// Distinctive values, so a leak anywhere in the stream is found by plain substring search.
const FIRST_PASSWORD = "first-Password-7c1e9a";
const SECOND_PASSWORD = "second-Password-4b2d8f";
const WRONG_PASSWORD = "wrong-Password-93aa01";

let app: TestApp;
const secrets = new Set<string>([FIRST_PASSWORD, SECOND_PASSWORD, WRONG_PASSWORD]);

beforeAll(async () => {
  app = await startTestApp({
    DATABASE_URL: await freshDatabaseUrl("logredaction"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("logredaction"),
    GATEHOUSE_LOG_LEVEL: "trace",
    GATEHOUSE_SIGNIN_RATE_LIMIT_PER_EMAIL: "2",
  });
});
afterAll(async () => {
  await app.close();
});

describe("nothing secret reaches the log stream (level trace, the whole password/API-key/session flow)", () => {
  test("sign-up, failed and rate-limited sign-ins, password change, API key, sign-out", async () => {
    const jar = new CookieJar();
    const up = await app.request("/api/v1/auths/signup", postJson({ name: "Rita", email: "rita@example.com", password: FIRST_PASSWORD }));
    expect(up.status).toBe(200);
    const token = ((await up.json()) as { token: string }).token;
    secrets.add(token);
    for (const c of jar.take(up)) secrets.add(c.split(";")[0]!.split("=")[1]!);
    const auth = { authorization: `Bearer ${token}` };

    for (let i = 0; i < 3; i++) {
      const bad = await app.request("/api/v1/auths/signin", postJson({ email: "rita@example.com", password: WRONG_PASSWORD }));
      expect([400, 429]).toContain(bad.status);
    }
    const changed = await app.request("/api/v1/auths/update/password", {
      method: "POST", headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ password: FIRST_PASSWORD, new_password: SECOND_PASSWORD }),
    });
    expect(changed.status).toBe(200);

    const key = await app.request("/api/v1/auths/api_key", { method: "POST", headers: auth });
    expect(key.status).toBe(200);
    const apiKey = ((await key.json()) as { api_key: string }).api_key;
    secrets.add(apiKey);
    expect((await app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(200);
    expect((await app.request("/api/v1/auths/", { headers: { cookie: `token=${token}` } })).status).toBe(200);
    // A tampered token is refused and audited, without the token itself.
    const tampered = `${token.slice(0, -4)}AAAA`;
    secrets.add(tampered);
    expect((await app.request("/api/v1/auths/", { headers: { authorization: `Bearer ${tampered}` } })).status).toBe(401);
    expect((await app.request("/api/v1/auths/signout", { method: "POST", headers: auth })).status).toBe(200);
    expect((await app.request("/api/v1/auths/", { headers: auth })).status).toBe(401);

    const text = app.logText();
    // The flow was logged (so an empty stream cannot pass this test)...
    expect(text).toContain('"audit":"signup"');
    expect(text).toContain('"audit":"signin","outcome":"failure"');
    expect(text).toContain('"audit":"signin","outcome":"rate_limited"');
    expect(text).toContain('"audit":"token","outcome":"refused"');
    expect(text).toContain('"audit":"signout"');
    expect(text).toContain('"msg":"request"');
    // ...and none of its secrets, in any shape.
    for (const s of secrets) expect(text.includes(s)).toBe(false);
    for (const { name, re } of SECRET_SHAPES) expect({ name, found: re.test(text) }).toEqual({ name, found: false });
  });
});

describe("the logger's redaction", () => {
  test("passwords, tokens, cookies and authorization headers are censored wherever callers put them", () => {
    const chunks: string[] = [];
    const log = createLogger("info", new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }));
    log.info({
      password: "p1", token: "t1", body: { password: "p2", new_password: "p3", api_key: "k1" },
      headers: { authorization: "Bearer t2", cookie: "token=t3", "set-cookie": "token=t4", "x-api-key": "k2" },
      oauth: { access_token: "a1", refresh_token: "r1", id_token: "i1", client_secret: "s1" },
    }, "probe");
    const line = JSON.parse(chunks.join("")) as Record<string, Record<string, unknown>>;
    expect(line["password"]).toBe("[redacted]" as never);
    expect(line["body"]).toEqual({ password: "[redacted]", new_password: "[redacted]", api_key: "[redacted]" });
    expect(line["headers"]).toEqual({ authorization: "[redacted]", cookie: "[redacted]", "set-cookie": "[redacted]", "x-api-key": "[redacted]" });
    expect(line["oauth"]).toEqual({ access_token: "[redacted]", refresh_token: "[redacted]", id_token: "[redacted]", client_secret: "[redacted]" });
    for (const v of ["p1", "p2", "p3", "t1", "t2", "t3", "t4", "k1", "k2", "a1", "r1", "i1", "s1"]) expect(chunks.join("")).not.toContain(`"${v}"`);
  });
});
