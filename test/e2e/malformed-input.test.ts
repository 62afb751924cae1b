import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { entryCommand, RUNTIMES, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { postJson } from "../helpers/cookie-jar.ts";

const json = { "content-type": "application/json" };
const CASES: Array<[string, string, RequestInit]> = [
  ["missing fields", "/api/v1/auths/signin", { method: "POST", headers: json, body: "{}" }],
  ["wrong types", "/api/v1/auths/signin", { method: "POST", headers: json, body: '{"email": 5, "password": ["x"]}' }],
  ["an array body", "/api/v1/auths/signin", { method: "POST", headers: json, body: "[1,2,3]" }],
  ["an empty body", "/api/v1/auths/signin", { method: "POST", headers: json, body: "" }],
  ["truncated JSON", "/api/v1/auths/signin", { method: "POST", headers: json, body: '{"email": "a@b.c", "pass' }],
  ["JSON null", "/api/v1/auths/signin", { method: "POST", headers: json, body: "null" }],
  ["a 1 MB body", "/api/v1/auths/signin", { method: "POST", headers: json, body: JSON.stringify({ email: "a@b.c", password: "x".repeat(1_048_576) }) }],
  ["a 2 MB body", "/api/v1/auths/signup", { method: "POST", headers: json, body: JSON.stringify({ name: "n", email: "a@b.c", password: "x", profile_image_url: "y".repeat(2_000_000) }) }],
  ["non-UTF-8 bytes", "/api/v1/auths/signin", { method: "POST", headers: json, body: new Uint8Array([0x7b, 0x22, 0x65, 0x6d, 0x61, 0x69, 0x6c, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x2c, 0x22, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x22, 0x3a, 0x22, 0x78, 0x22, 0x7d]) }],
  ["SQL metacharacters in the email", "/api/v1/auths/signin", postJson({ email: "x' OR '1'='1'; DROP TABLE \"user\"; --@example.com", password: "x" })],
  ["a NUL byte in the email", "/api/v1/auths/signin", postJson({ email: "nul\u0000@example.com", password: "x" })],
  ["a NUL byte in a sign-up name", "/api/v1/auths/signup", postJson({ name: "a\u0000b", email: "nul2@example.com", password: "x" })],
  ["a password over 72 bytes", "/api/v1/auths/signin", postJson({ email: "m@example.com", password: "é".repeat(40) })],
  ["a 10 KB token", "/api/v1/auths/", { headers: { authorization: `Bearer ${"a".repeat(10_240)}` } }],
  ["a token with alg none", "/api/v1/auths/", { headers: { authorization: "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpZCI6IngifQ." } }],
  ["a malformed Authorization header", "/api/v1/auths/", { headers: { authorization: "Bearer" } }],
  ["a garbage cookie", "/api/v1/auths/", { headers: { cookie: "token=%E0%A4%A" } }],
  ["a huge header", "/api/v1/auths/", { headers: { "x-filler": "h".repeat(64 * 1024) } }],
  ["a header over the app's limit", "/api/v1/auths/", { headers: { "x-filler": "h".repeat(48 * 1024) } }],
  ["an unknown session id with SQL in it", "/api/v1/auths/sessions/'%3B%20drop%20table%20x", { method: "DELETE" }],
  ["a text/plain body", "/api/v1/auths/signin", { method: "POST", headers: { "content-type": "text/plain" }, body: "email=a&password=b" }],
];

for (const runtime of RUNTIMES) describe(`malformed input on ${runtime}`, () => {
  let server: ServerProcess;
  let token = "";
  beforeAll(async () => {
    server = await startServerProcess({
      DATABASE_URL: await freshDatabaseUrl(`malformed_${runtime}`),
      REDIS_URL: await redisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(`malformed_${runtime}`),
      WEBUI_SECRET_KEY: "malformed-secret",
    }, entryCommand(runtime));
    const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, postJson({ name: "M", email: "m@example.com", password: "pw" }));
    token = ((await r.json()) as { token: string }).token;
  });
  afterAll(() => {
    server?.kill("SIGKILL");
  });

  for (const [name, path, init] of CASES) {
    test(`${name} → 4xx with a detail, never a 500`, async () => {
      const headers = new Headers(init.headers);
      if (path.includes("/sessions/")) headers.set("authorization", `Bearer ${token}`);
      const r = await fetch(`${server.baseUrl}${path}`, { ...init, headers });
      if (runtime === "deno" && name === "a huge header") {
        // Deno.serve refuses a header block over 64 KiB itself, with a bare 400 (no knob to raise
        // it; README "Deno"); up to there the app's JSON 431 answers, as on Bun.
        expect(r.status).toBe(400);
        return;
      }
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      const body = (await r.json()) as { detail?: unknown };
      expect(typeof body.detail).toBe("string");
      expect(String(body.detail)).not.toContain("at /");
    });
  }

  test("the server is still healthy afterwards and no stack trace was logged", async () => {
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
    expect(server.output()).not.toContain("unhandled error");
  });
});
