import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { FilterParser } from "ldapts";
import { ConfigError } from "./errors.ts";
import { bool, int, optionalStr, raw, str, type Env } from "./readers.ts";

/** How the LDAP connection is protected. */
export type LdapTlsMode = "ldaps" | "starttls" | "none";

/** LDAP / Active Directory sign-in (Open WebUI's variable names and defaults, plus `GATEHOUSE_LDAP_*` limits). */
export interface LdapConfig {
  /** `ENABLE_LDAP`. */
  readonly enabled: boolean;
  /** `LDAP_SERVER_LABEL`: the form's title on `/auth`. */
  readonly label: string;
  /** `ldap://host:port` or `ldaps://host:port`, from `LDAP_SERVER_HOST` / `LDAP_SERVER_PORT` / `LDAP_USE_TLS`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** `LDAP_USE_TLS` (Open WebUI: implicit TLS, i.e. ldaps) or `GATEHOUSE_LDAP_STARTTLS`. */
  readonly tls: LdapTlsMode;
  /** `LDAP_VALIDATE_CERT`: false accepts any certificate (warned about at boot). */
  readonly validateCert: boolean;
  /** `LDAP_CA_CERT_FILE`, and its PEM text read at boot (null: the system's CAs). */
  readonly caCertFile: string | null;
  readonly caCertPem: string | null;
  /** `LDAP_CIPHERS`: an OpenSSL cipher list. */
  readonly ciphers: string;
  /** `LDAP_APP_DN` / `LDAP_APP_PASSWORD`: the search account; null → anonymous search. */
  readonly appDn: string | null;
  readonly appPassword: string | null;
  /** `LDAP_SEARCH_BASE`. */
  readonly searchBase: string;
  /** `LDAP_SEARCH_FILTER` (older name `LDAP_SEARCH_FILTERS`): the operator's extra filter, ANDed in; "" for none. */
  readonly searchFilter: string;
  readonly attributeForUsername: string;
  readonly attributeForMail: string;
  readonly attributeForGroups: string;
  /** `ENABLE_LDAP_GROUP_MANAGEMENT` / `ENABLE_LDAP_GROUP_CREATION`. */
  readonly groupManagement: boolean;
  readonly groupCreation: boolean;
  /** `GATEHOUSE_LDAP_CONNECT_TIMEOUT_MS`: TCP (and TLS) connect. */
  readonly connectTimeoutMs: number;
  /** `GATEHOUSE_LDAP_TIMEOUT_MS`: the whole directory exchange of one sign-in, waiting for a slot included. */
  readonly timeoutMs: number;
  /** `GATEHOUSE_LDAP_MAX_CONCURRENCY`: directory exchanges in flight at once on this instance. */
  readonly maxConcurrency: number;
}

/** An attribute description: a name (letters, digits, hyphens) or a numeric OID, with options. */
const ATTRIBUTE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9-]+)*$/;

function attribute(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  if (!ATTRIBUTE.test(v)) throw new ConfigError(name, "an LDAP attribute name such as uid, mail, sAMAccountName or userPrincipalName");
  return v;
}

/** `LDAP_SERVER_HOST` is a host name or address; like Open WebUI's ldap3, an `ldap://` or `ldaps://` URL is accepted too. */
function server(env: Env): { host: string; port: number; ldapsScheme: boolean } {
  const port = int(env, "LDAP_SERVER_PORT", 389, 1, 65535);
  const v = str(env, "LDAP_SERVER_HOST", "localhost");
  const accepts = "a host name or address, or an ldap:// or ldaps:// URL without path";
  if (v.includes("://")) {
    const u = URL.parse(v);
    if (!u || (u.protocol !== "ldap:" && u.protocol !== "ldaps:") || !u.hostname || (u.pathname !== "" && u.pathname !== "/")) throw new ConfigError("LDAP_SERVER_HOST", accepts);
    return { host: u.hostname, port: u.port ? Number(u.port) : port, ldapsScheme: u.protocol === "ldaps:" };
  }
  if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/.test(v)) throw new ConfigError("LDAP_SERVER_HOST", accepts);
  return { host: v, port, ldapsScheme: false };
}

/** The operator's filter must parse on its own and inside the AND Gatehouse builds. */
function searchFilter(env: Env): string {
  const name = raw(env, "LDAP_SEARCH_FILTER") !== undefined ? "LDAP_SEARCH_FILTER" : "LDAP_SEARCH_FILTERS";
  const v = str(env, name, "");
  if (v === "") return v;
  try {
    if (!v.startsWith("(") || !v.endsWith(")")) throw new Error("not parenthesised");
    FilterParser.parseString(`(&(objectClass=*)${v})`);
  } catch {
    throw new ConfigError(name, "an LDAP filter in parentheses, e.g. (objectClass=person) or (&(objectClass=user)(memberOf=CN=Staff,DC=corp,DC=example))");
  }
  return v;
}

/** Reads the LDAP section; throws {@link ConfigError} naming the first bad variable. */
export function readLdapConfig(env: Env): LdapConfig {
  const enabled = bool(env, "ENABLE_LDAP", false);
  const { host, port, ldapsScheme } = server(env);
  const startTls = bool(env, "GATEHOUSE_LDAP_STARTTLS", false);
  const useTls = bool(env, "LDAP_USE_TLS", true);
  const tls: LdapTlsMode = startTls ? "starttls" : useTls || ldapsScheme ? "ldaps" : "none";
  if (startTls && ldapsScheme) throw new ConfigError("GATEHOUSE_LDAP_STARTTLS", "false when LDAP_SERVER_HOST is an ldaps:// URL (StartTLS runs on a plain connection)");
  const caCertFile = optionalStr(env, "LDAP_CA_CERT_FILE");
  const ciphers = str(env, "LDAP_CIPHERS", "ALL");
  const config: LdapConfig = {
    enabled,
    label: str(env, "LDAP_SERVER_LABEL", "LDAP Server"),
    url: `${tls === "ldaps" ? "ldaps" : "ldap"}://${host}:${port}`,
    host, port, tls,
    validateCert: bool(env, "LDAP_VALIDATE_CERT", true),
    caCertFile,
    // Read only when LDAP is on: a stale path in a disabled section must not stop the process.
    caCertPem: enabled && caCertFile !== null ? readCaFile(caCertFile) : null,
    ciphers,
    appDn: optionalStr(env, "LDAP_APP_DN"),
    appPassword: env["LDAP_APP_PASSWORD"] === undefined || env["LDAP_APP_PASSWORD"] === "" ? null : env["LDAP_APP_PASSWORD"],
    searchBase: str(env, "LDAP_SEARCH_BASE", ""),
    searchFilter: searchFilter(env),
    attributeForUsername: attribute(env, "LDAP_ATTRIBUTE_FOR_USERNAME", "uid"),
    attributeForMail: attribute(env, "LDAP_ATTRIBUTE_FOR_MAIL", "mail"),
    attributeForGroups: attribute(env, "LDAP_ATTRIBUTE_FOR_GROUPS", "memberOf"),
    groupManagement: bool(env, "ENABLE_LDAP_GROUP_MANAGEMENT", false),
    groupCreation: bool(env, "ENABLE_LDAP_GROUP_CREATION", false),
    connectTimeoutMs: int(env, "GATEHOUSE_LDAP_CONNECT_TIMEOUT_MS", 3000, 50, 120_000),
    timeoutMs: int(env, "GATEHOUSE_LDAP_TIMEOUT_MS", 5000, 100, 300_000),
    maxConcurrency: int(env, "GATEHOUSE_LDAP_MAX_CONCURRENCY", 16, 1, 10_000),
  };
  if (enabled) checkCiphers(ciphers);
  return config;
}

function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch {
    throw new ConfigError("LDAP_CA_CERT_FILE", "the path of a readable PEM file with the CA certificate(s) that signed the LDAP server's certificate");
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new ConfigError("LDAP_CA_CERT_FILE", "a PEM file containing at least one CERTIFICATE block");
  return pem;
}

function checkCiphers(ciphers: string): void {
  try {
    createSecureContext({ ciphers });
  } catch {
    throw new ConfigError("LDAP_CIPHERS", "an OpenSSL cipher list such as ALL or HIGH:!aNULL");
  }
}
