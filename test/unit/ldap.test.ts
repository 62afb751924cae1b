import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FilterParser } from "ldapts";
import { loadConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { escapeFilterValue, userSearchFilter } from "../../src/ldap/filter.ts";
import { groupNamesFromDns } from "../../src/ldap/entry.ts";

function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("LDAP settings (Open WebUI's names and defaults)", () => {
  test("defaults: off, localhost:389 with TLS (ldaps, as Open WebUI's LDAP_USE_TLS=True), uid / mail / memberOf", () => {
    expect(loadConfig({}).ldap).toEqual({
      enabled: false, label: "LDAP Server", url: "ldaps://localhost:389", host: "localhost", port: 389, tls: "ldaps",
      validateCert: true, caCertFile: null, caCertPem: null, ciphers: "ALL", appDn: null, appPassword: null,
      searchBase: "", searchFilter: "", attributeForUsername: "uid", attributeForMail: "mail", attributeForGroups: "memberOf",
      groupManagement: false, groupCreation: false, connectTimeoutMs: 3000, timeoutMs: 5000, maxConcurrency: 16,
    });
  });

  test("plain, StartTLS, an ldaps:// URL in LDAP_SERVER_HOST, the older LDAP_SEARCH_FILTERS name", () => {
    expect(loadConfig({ LDAP_USE_TLS: "false", LDAP_SERVER_HOST: "dc1.corp.example" }).ldap).toMatchObject({ tls: "none", url: "ldap://dc1.corp.example:389" });
    expect(loadConfig({ GATEHOUSE_LDAP_STARTTLS: "true" }).ldap).toMatchObject({ tls: "starttls", url: "ldap://localhost:389" });
    expect(loadConfig({ LDAP_USE_TLS: "false", LDAP_SERVER_HOST: "ldaps://dc1.corp.example:636" }).ldap).toMatchObject({ tls: "ldaps", url: "ldaps://dc1.corp.example:636" });
    expect(loadConfig({ LDAP_SEARCH_FILTERS: "(objectClass=user)" }).ldap.searchFilter).toBe("(objectClass=user)");
    expect(loadConfig({ LDAP_SEARCH_FILTER: "(a=b)", LDAP_SEARCH_FILTERS: "(c=d)" }).ldap.searchFilter).toBe("(a=b)");
  });

  test("bad values name the variable", () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ ENABLE_LDAP: "maybe" }, "ENABLE_LDAP"],
      [{ LDAP_SERVER_PORT: "ldap" }, "LDAP_SERVER_PORT"],
      [{ LDAP_SERVER_HOST: "http://dc1" }, "LDAP_SERVER_HOST"],
      [{ LDAP_SERVER_HOST: "dc1 )(uid=*" }, "LDAP_SERVER_HOST"],
      [{ LDAP_USE_TLS: "yes please" }, "LDAP_USE_TLS"],
      [{ LDAP_VALIDATE_CERT: "nah" }, "LDAP_VALIDATE_CERT"],
      [{ LDAP_ATTRIBUTE_FOR_USERNAME: "uid=*)(cn" }, "LDAP_ATTRIBUTE_FOR_USERNAME"],
      [{ LDAP_ATTRIBUTE_FOR_MAIL: "mail addr" }, "LDAP_ATTRIBUTE_FOR_MAIL"],
      [{ LDAP_ATTRIBUTE_FOR_GROUPS: "(memberOf)" }, "LDAP_ATTRIBUTE_FOR_GROUPS"],
      [{ LDAP_SEARCH_FILTER: "objectClass=user" }, "LDAP_SEARCH_FILTER"],
      [{ LDAP_SEARCH_FILTERS: "(objectClass=user" }, "LDAP_SEARCH_FILTERS"],
      [{ ENABLE_LDAP_GROUP_MANAGEMENT: "2" }, "ENABLE_LDAP_GROUP_MANAGEMENT"],
      [{ ENABLE_LDAP_GROUP_CREATION: "x" }, "ENABLE_LDAP_GROUP_CREATION"],
      [{ GATEHOUSE_LDAP_TIMEOUT_MS: "0" }, "GATEHOUSE_LDAP_TIMEOUT_MS"],
      [{ GATEHOUSE_LDAP_CONNECT_TIMEOUT_MS: "fast" }, "GATEHOUSE_LDAP_CONNECT_TIMEOUT_MS"],
      [{ GATEHOUSE_LDAP_MAX_CONCURRENCY: "0" }, "GATEHOUSE_LDAP_MAX_CONCURRENCY"],
      [{ GATEHOUSE_LDAP_STARTTLS: "true", LDAP_SERVER_HOST: "ldaps://dc1" }, "GATEHOUSE_LDAP_STARTTLS"],
      // Deno's TLS is rustls: it takes no OpenSSL cipher list, so there is nothing to check it against (README "On Deno").
      ...(typeof (globalThis as { Deno?: unknown }).Deno === "undefined" ? [[{ ENABLE_LDAP: "true", LDAP_CIPHERS: "NO-SUCH-CIPHER" }, "LDAP_CIPHERS"] as [Record<string, string>, string]] : []),
      [{ ENABLE_LDAP: "true", LDAP_CA_CERT_FILE: "/nonexistent/ca.pem" }, "LDAP_CA_CERT_FILE"],
    ];
    for (const [env, variable] of cases) expect({ env, variable: errorFor(env).variable }).toEqual({ env, variable });
  });

  test("the CA file is read at boot (and must hold a certificate); a disabled section does not read it", () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-ldap-ca-"));
    try {
      writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
      writeFileSync(join(dir, "key.pem"), "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
      expect(loadConfig({ ENABLE_LDAP: "true", LDAP_CA_CERT_FILE: join(dir, "ca.pem") }).ldap.caCertPem).toContain("BEGIN CERTIFICATE");
      expect(errorFor({ ENABLE_LDAP: "true", LDAP_CA_CERT_FILE: join(dir, "key.pem") }).variable).toBe("LDAP_CA_CERT_FILE");
      expect(loadConfig({ LDAP_CA_CERT_FILE: "/nonexistent/ca.pem" }).ldap.caCertPem).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the error message never quotes the value (LDAP_APP_PASSWORD and friends may be secrets)", () => {
    expect(errorFor({ LDAP_SEARCH_FILTER: "secret-ish(" }).message).not.toContain("secret-ish");
  });
});

describe("RFC 4515 escaping", () => {
  test("the five special characters and control characters become \\XX; everything else is kept", () => {
    expect(escapeFilterValue("a*b(c)d\\e\u0000f")).toBe("a\\2ab\\28c\\29d\\5ce\\00f");
    expect(escapeFilterValue("\n\u007f")).toBe("\\0a\\7f");
    expect(escapeFilterValue("Zoë.o'brien@corp")).toBe("Zoë.o'brien@corp");
  });

  test("whatever the value, the filter parses to one equality on the attribute plus the operator's filter", () => {
    for (const value of ["*", "a*", "bob)(|(uid=*", "ad\\61", "x\u0000)(uid=*", ")(", "\\", "*)(objectClass=*"]) {
      const parsed = FilterParser.parseString(userSearchFilter("uid", value, "(objectClass=person)")) as unknown as { filters: Array<{ attribute?: string; value?: unknown; type?: number }> };
      expect(parsed.filters).toHaveLength(2);
      expect(parsed.filters[0]!.attribute).toBe("uid");
      expect(String(parsed.filters[0]!.value)).toBe(value);
    }
  });
});

describe("group names from group DNs (Open WebUI: the first CN)", () => {
  test("CN values, escapes undone, duplicates and CN-less DNs dropped", () => {
    expect(groupNamesFromDns([
      "cn=engineers,ou=groups,dc=gatehouse,dc=test",
      "CN=Smith\\, John's team,OU=Groups,DC=corp",
      "CN=Caf\\C3\\A9,OU=Groups",
      "ou=nogroup,dc=x",
      "cn=engineers,ou=other",
    ])).toEqual(["engineers", "Smith, John's team", "Café"]);
  });
});
