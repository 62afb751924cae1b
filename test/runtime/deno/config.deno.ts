// Runs on Deno (node:test): the config module is plain TypeScript on Web APIs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/config.ts";
import { ConfigError } from "../../../src/config/errors.ts";

test("defaults load on Deno", () => {
  const c = loadConfig({});
  assert.equal(c.server.port, 8080);
  assert.equal(c.db.poolSize, 5);
  assert.equal(c.jwt.expiresInSeconds, 2419200);
});

test("a bad value names the variable on Deno", () => {
  assert.throws(() => loadConfig({ WEBUI_AUTH_COOKIE_SAME_SITE: "maybe" }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.variable, "WEBUI_AUTH_COOKIE_SAME_SITE");
    return true;
  });
});
