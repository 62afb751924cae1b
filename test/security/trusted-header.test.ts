import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestSocket, wsUrl } from "../helpers/ws-client.ts";
import { bootOutcome, signUp, startSecurityServer, usersWithEmail, type SecurityServer } from "./security-server.ts";

// Hole 1: the trusted email/name headers count only when the SOCKET PEER is a trusted proxy.
const HEADERS = { WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email", WEBUI_AUTH_TRUSTED_NAME_HEADER: "X-Forwarded-Name" };

describe("trusted header from a peer that is not a trusted proxy (proxy 10.9.9.9, client 127.0.0.1)", () => {
  let s: SecurityServer;
  let admin: { token: string; id: string };
  beforeAll(async () => {
    s = await startSecurityServer("th_spoof", { ...HEADERS, GATEHOUSE_TRUSTED_PROXIES: "10.9.9.9,10.0.0.0/8" });
    admin = await signUp(s, "admin@example.com");
  });
  afterAll(() => s.close());

  test("X-Forwarded-Email for the admin (X-Forwarded-For naming the proxy) gets no token, and an audit line says why", async () => {
    const r = await s.postJson("/api/v1/auths/signin", { email: "", password: "" }, { "x-forwarded-email": "admin@example.com", "x-forwarded-for": "10.9.9.9" });
    const body = (await r.json()) as { token?: string; detail?: string };
    expect({ status: r.status, token: body.token }).toEqual({ status: 400, token: undefined });
    expect(r.headers.getSetCookie().some((c) => c.startsWith("token="))).toBe(false);
    expect(s.logText()).toContain("ERR_TRUSTED_HEADER_UNTRUSTED_PEER");
  });

  test("an unknown email in the header creates no account", async () => {
    const r = await s.postJson("/api/v1/auths/signin", { email: "", password: "" }, { "x-forwarded-email": "mallory@example.com", "x-forwarded-name": "Mallory" });
    expect(r.status).toBe(400);
    expect(await usersWithEmail(s, "mallory@example.com")).toBe(0);
  });

  test("a spoofed header cannot end someone's session either (the user-mismatch check ignores it)", async () => {
    const r = await fetch(`${s.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${admin.token}`, "x-forwarded-email": "someone-else@example.com" } });
    expect(r.status).toBe(200);
  });

  test("nor a WebSocket's: the header on the upgrade is ignored too", async () => {
    const socket = await TestSocket.open(wsUrl(s.baseUrl), { headers: { "x-forwarded-email": "someone-else@example.com" } });
    try {
      expect((await socket.join(admin.token)).event).toBe("ack");
    } finally {
      socket.close();
    }
  });
});

describe("trusted header from a trusted proxy (127.0.0.0/8 listed as a CIDR)", () => {
  let s: SecurityServer;
  beforeAll(async () => {
    s = await startSecurityServer("th_legit", { ...HEADERS, GATEHOUSE_TRUSTED_PROXIES: "127.0.0.0/8" });
    await signUp(s, "admin@example.com");
  });
  afterAll(() => s.close());

  test("signs the header's user in, and creates a new one with the name header", async () => {
    const r = await s.postJson("/api/v1/auths/signin", { email: "", password: "" }, { "x-forwarded-email": "admin@example.com" });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { role: string }).role).toBe("admin");
    const n = await s.postJson("/api/v1/auths/signin", { email: "", password: "" }, { "x-forwarded-email": "nia@example.com", "x-forwarded-name": "Nia" });
    expect(n.status).toBe(200);
    expect(((await n.json()) as { name: string }).name).toBe("Nia");
  });
});

test("a trusted header with an empty GATEHOUSE_TRUSTED_PROXIES stops the boot: exit 2 naming both variables", async () => {
  const r = await bootOutcome({ ...HEADERS, WEBUI_SECRET_KEY: "boot-test-secret-0123456789abcdef0123" });
  expect({ code: r.code, live: r.live }).toEqual({ code: 2, live: false });
  expect(r.output).toContain("WEBUI_AUTH_TRUSTED_EMAIL_HEADER");
  expect(r.output).toContain("GATEHOUSE_TRUSTED_PROXIES");
});
