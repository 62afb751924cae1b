import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort } from "../harness/services.ts";
import { startSecurityServer, type SecurityServer } from "./security-server.ts";

// /metrics can be kept from the public: a bearer token, and/or a port of its own.
describe("GATEHOUSE_METRICS_TOKEN", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("metrics_token", { GATEHOUSE_METRICS_TOKEN: "scrape-token-0123456789" });
  });
  afterAll(() => s.close());

  test("no or a wrong bearer token gets 401; the right one the metrics", async () => {
    expect((await fetch(`${s.baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.baseUrl}/metrics`, { headers: { authorization: "Bearer scrape-token-0123456788" } })).status).toBe(401);
    const ok = await fetch(`${s.baseUrl}/metrics`, { headers: { authorization: "Bearer scrape-token-0123456789" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("gatehouse_auth_events_total");
  });
});

describe("GATEHOUSE_METRICS_PORT", () => {
  let s: SecurityServer;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    s = await startSecurityServer("metrics_port", { GATEHOUSE_METRICS_PORT: String(port) });
  });
  afterAll(() => s.close());

  test("/metrics answers on its own port only", async () => {
    expect((await fetch(`${s.baseUrl}/metrics`)).status).toBe(404);
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("gatehouse_auth_events_total");
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/auths/verify`)).status).toBe(404);
  });
});
