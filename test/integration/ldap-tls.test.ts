/**
 * The directory client against slapd's TLS listeners: StartTLS and ldaps with a certificate
 * from a trusted CA sign in; an untrusted one (system CAs only, or the wrong CA) is refused
 * with 503 before any credential is sent, unless validation is explicitly off — and then the
 * module warns at boot.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Registry } from "prom-client";
import { loadConfig } from "../../src/config/config.ts";
import { LdapDirectory } from "../../src/ldap/directory.ts";
import { createLdapModule } from "../../src/ldap/ldap-module.ts";
import { LdapUnavailableError } from "../../src/ldap/ldap-errors.ts";
import { createLdapMetrics } from "../../src/observability/ldap-metrics.ts";
import { createRegistry } from "../../src/observability/registry.ts";
import { AuditTrail } from "../../src/observability/audit-trail.ts";
import type { Services } from "../../src/services.ts";
import type { AuthModule } from "../../src/auth/auth-module.ts";
import { captureLogger } from "../helpers/capture-log.ts";
import { sample } from "../helpers/metrics-text.ts";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { startSlapd, LDAP_APP, LDAP_PEOPLE, LDAP_USERS, type SlapdHandle } from "../harness/slapd.ts";

let slapd: SlapdHandle;
beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd?.stop();
});

const { ada } = LDAP_USERS;

function directory(env: Record<string, string>): { dir: LdapDirectory; registry: Registry; logText: () => string } {
  const config = loadConfig({
    ENABLE_LDAP: "true",
    LDAP_APP_DN: LDAP_APP.dn,
    LDAP_APP_PASSWORD: LDAP_APP.password,
    LDAP_SEARCH_BASE: LDAP_PEOPLE,
    GATEHOUSE_LDAP_TIMEOUT_MS: "3000",
    ...env,
  });
  const registry = createRegistry({ defaultMetrics: false });
  const logs = captureLogger("info");
  return { dir: new LdapDirectory(config.ldap, createLdapMetrics(registry), logs.log), registry, logText: logs.text };
}

const startTls = (host: string, extra: Record<string, string> = {}) => ({ LDAP_SERVER_HOST: host, LDAP_SERVER_PORT: String(slapd.port), GATEHOUSE_LDAP_STARTTLS: "true", ...extra });
const ldaps = (host: string, extra: Record<string, string> = {}) => ({ LDAP_SERVER_HOST: host, LDAP_SERVER_PORT: String(slapd.ldapsPort), LDAP_USE_TLS: "true", ...extra });

describe("a certificate from the configured CA", () => {
  const cases: Array<[string, () => Record<string, string>]> = [
    ["StartTLS to 127.0.0.1", () => startTls("127.0.0.1", { LDAP_CA_CERT_FILE: slapd.caFile })],
    ["StartTLS to localhost", () => startTls("localhost", { LDAP_CA_CERT_FILE: slapd.caFile })],
    ["ldaps to 127.0.0.1", () => ldaps("127.0.0.1", { LDAP_CA_CERT_FILE: slapd.caFile })],
    ["an ldaps:// URL in LDAP_SERVER_HOST", () => ({ LDAP_SERVER_HOST: `ldaps://localhost:${slapd.ldapsPort}`, LDAP_USE_TLS: "false", LDAP_CA_CERT_FILE: slapd.caFile })],
  ];
  for (const [name, env] of cases) {
    test(`${name}: signs in`, async () => {
      const { dir, registry } = directory(env());
      expect((await dir.authenticate("ada", ada.password)).dn).toBe(ada.dn);
      expect(sample(await registry.metrics(), "gatehouse_ldap_operations_total", { op: "bind_user", outcome: "ok" })).toBe(1);
    });
  }
});

describe("an untrusted certificate is refused before any credential is sent", () => {
  const cases: Array<[string, () => Record<string, string>]> = [
    ["StartTLS, system CAs only", () => startTls("127.0.0.1")],
    ["StartTLS, another CA", () => startTls("127.0.0.1", { LDAP_CA_CERT_FILE: slapd.otherCaFile })],
    ["ldaps, system CAs only", () => ldaps("127.0.0.1")],
    ["ldaps, another CA", () => ldaps("localhost", { LDAP_CA_CERT_FILE: slapd.otherCaFile })],
  ];
  for (const [name, env] of cases) {
    test(`${name}: 503 (tls), no bind reached the directory`, async () => {
      const { dir, registry, logText } = directory(env());
      const e = await dir.authenticate("ada", ada.password).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LdapUnavailableError);
      expect((e as LdapUnavailableError).outage).toBe("tls");
      const text = await registry.metrics();
      expect(sample(text, "gatehouse_ldap_operations_total", { op: "search" })).toBeUndefined();
      expect(sample(text, "gatehouse_ldap_operations_total", { op: "bind_user" })).toBeUndefined();
      expect(sample(text, "gatehouse_ldap_operations_total", { outcome: "tls" })).toBe(1);
      expect(logText()).toContain("LDAP directory unavailable");
      expect(logText()).not.toContain(ada.password);
    });
  }
});

describe("LDAP_VALIDATE_CERT=false", () => {
  test("accepts the untrusted certificate over ldaps and StartTLS, and the module warns at boot", async () => {
    for (const env of [ldaps("127.0.0.1", { LDAP_VALIDATE_CERT: "false" }), startTls("127.0.0.1", { LDAP_VALIDATE_CERT: "false" })]) {
      const { dir } = directory(env);
      expect((await dir.authenticate("ada", ada.password)).dn).toBe(ada.dn);
    }
    const logs = captureLogger("info");
    const registry = createRegistry({ defaultMetrics: false });
    const config = loadConfig({ ENABLE_LDAP: "true", ...ldaps("127.0.0.1", { LDAP_VALIDATE_CERT: "false" }) });
    const services = { config, log: logs.log, registry, audit: new AuditTrail(logs.log, registry) } as unknown as Services;
    expect(createLdapModule(services, {} as AuthModule)).not.toBeNull();
    expect(logs.text()).toContain("LDAP_VALIDATE_CERT=false");
    const plain = captureLogger("info");
    createLdapModule({ ...services, log: plain.log, registry: createRegistry({ defaultMetrics: false }) } as unknown as Services, {} as AuthModule);
    expect(plain.text()).not.toContain("in clear");
    const clear = captureLogger("info");
    const plainConfig = loadConfig({ ENABLE_LDAP: "true", LDAP_USE_TLS: "false" });
    createLdapModule({ ...services, config: plainConfig, log: clear.log, registry: createRegistry({ defaultMetrics: false }) } as unknown as Services, {} as AuthModule);
    expect(clear.text()).toContain("passwords cross the network in clear");
  });
});

describe("a directory that accepts connections but never answers", () => {
  test("ldaps (TLS handshake unanswered) and StartTLS: 503 (timeout) by the deadline, and the slot is free again", async () => {
    slapd.pause();
    try {
      for (const env of [ldaps("127.0.0.1", { LDAP_CA_CERT_FILE: slapd.caFile }), startTls("127.0.0.1", { LDAP_CA_CERT_FILE: slapd.caFile })]) {
        const { dir } = directory({ ...env, GATEHOUSE_LDAP_TIMEOUT_MS: "800", GATEHOUSE_LDAP_CONNECT_TIMEOUT_MS: "60000" });
        const started = performance.now();
        const e = await dir.authenticate("ada", ada.password).catch((x: unknown) => x);
        const elapsed = performance.now() - started;
        expect(e).toBeInstanceOf(LdapUnavailableError);
        expect((e as LdapUnavailableError).outage).toBe("timeout");
        expect(elapsed).toBeGreaterThanOrEqual(790);
        expect(elapsed).toBeLessThan(3000);
        await Bun.sleep(50);
        expect(dir.load).toEqual({ held: 0, waiting: 0 });
      }
    } finally {
      slapd.resume();
    }
  });
});

describe("a refused application account", () => {
  test("a wrong LDAP_APP_PASSWORD is an outage (503, logged as an error naming the variables), not the user's wrong password", async () => {
    const { dir, logText } = directory({ LDAP_SERVER_HOST: "127.0.0.1", LDAP_SERVER_PORT: String(slapd.port), LDAP_USE_TLS: "false", LDAP_APP_PASSWORD: "not-the-app-password" });
    const e = await dir.authenticate("ada", ada.password).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LdapUnavailableError);
    expect((e as LdapUnavailableError).outage).toBe("app_bind");
    expect(logText()).toContain("check LDAP_APP_DN and LDAP_APP_PASSWORD");
    expect(logText()).not.toContain("not-the-app-password");
  });
});

describe("the harness", () => {
  test("stop() ends slapd and removes its directory; down()/up() keep the ports and the tree", async () => {
    const other = await startSlapd();
    const dir = dirname(other.caFile);
    const { dir: d1 } = directory({ LDAP_SERVER_HOST: "127.0.0.1", LDAP_SERVER_PORT: String(other.port), LDAP_USE_TLS: "false" });
    await other.down();
    await other.up();
    expect((await d1.authenticate("ada", ada.password)).dn).toBe(ada.dn);
    const pid = other.pid;
    await other.stop();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
