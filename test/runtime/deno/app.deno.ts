// The same app, served with Deno.serve through src/runtime/deno.ts, on the real Postgres.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/config.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createServices } from "../../../src/services.ts";
import { assembleInstance } from "../../../src/instance.ts";
import { serveDeno } from "../../../src/runtime/deno.ts";
import { freshDatabase } from "./fresh-database.ts";

test("Deno.serve(app.fetch) answers /health, /readyz, 404s, the sign-in page and the OpenAPI docs", async () => {
  const config = loadConfig({ DATABASE_URL: await freshDatabase("app"), WEBUI_SECRET_KEY: "deno-secret", GATEHOUSE_LOG_LEVEL: "silent" });
  const services = await createServices(config, createLogger("silent"), { defaultMetrics: false });
  const instance = await assembleInstance(services);
  const server = serveDeno(instance.gatehouse.fetch, { host: "127.0.0.1", port: 0 });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: true });
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: true, checks: { postgres: "ok", store: "ok" } });
    const missing = await fetch(`${base}/missing`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { detail: "Not Found" });
    // The operator and user surfaces run on Deno too: request ids, the sign-in page, the docs and their local assets.
    const tagged = await fetch(`${base}/health`, { headers: { "x-request-id": "deno-req-1" } });
    await tagged.body?.cancel();
    assert.equal(tagged.headers.get("x-request-id"), "deno-req-1");
    const page = await fetch(`${base}/auth`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<label for="signin-email">Email<\/label>/);
    const doc = (await (await fetch(`${base}/openapi/json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.ok(doc.openapi.startsWith("3.1"));
    assert.ok("/api/v1/auths/signin" in doc.paths);
    const css = await fetch(`${base}/openapi/assets/swagger-ui.css`);
    assert.equal(css.status, 200);
    assert.ok((await css.text()).length > 10_000);
  } finally {
    await server.stop();
    await instance.stop();
    await services.close();
  }
});
