/**
 * A throwaway OpenLDAP `slapd` on loopback for the LDAP sign-in tests: a generated slapd.conf
 * (mdb backend, memberof overlay, a tiny AD-like schema), a plain listener that also offers
 * StartTLS and an ldaps listener, both with a certificate from a CA generated here with openssl,
 * and a test tree (users, groups, an AD-style account, two entries sharing one uid).
 * Tracked like the other harness services: stopped by `stop()`/`stopAll()` or, as a last
 * resort, by the watchdog when the test process ends.
 */
import type { Subprocess } from "bun";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "ldapts";
import { ensureSlapd, SLAPD } from "./apt.ts";
import { runCommand } from "./exec.ts";
import { freePort } from "./ports.ts";
import { FatalStartupError, HOST, hasExited, makeTempDir, removeDir, running, spawnLogged, tail, waitFor, withLog } from "./processes.ts";
import type { ServiceHandle } from "./handles.ts";

/** The tree's suffix and well-known entries. */
export const LDAP_BASE = "dc=gatehouse,dc=test";
export const LDAP_PEOPLE = `ou=people,${LDAP_BASE}`;
export const LDAP_GROUPS = `ou=groups,${LDAP_BASE}`;
/** The application (service) account Gatehouse binds as to search. */
export const LDAP_APP = { dn: `cn=gatehouse-app,ou=services,${LDAP_BASE}`, password: "app-secret-123" };
const ROOT = { dn: `cn=admin,${LDAP_BASE}`, password: "root-secret-456" };

/** A person in the test tree. */
export interface LdapTestUser {
  dn: string;
  uid: string;
  password: string;
  mail?: string;
  cn: string;
}

/** Test people: plain inetOrgPerson accounts, an AD-style one (no mail; UPN + sAMAccountName), two sharing a uid. */
export const LDAP_USERS = {
  ada: { dn: `uid=ada,${LDAP_PEOPLE}`, uid: "ada", password: "ada-pass-1", mail: "Ada@Example.test", cn: "Ada Lovelace" },
  bob: { dn: `uid=bob,${LDAP_PEOPLE}`, uid: "bob", password: "bob-pass-2", mail: "bob@example.test", cn: "Bob Babbage" },
  carol: { dn: `cn=Carol Shaw,${LDAP_PEOPLE}`, uid: "cshaw", password: "carol-pass-3", cn: "Carol Shaw" },
  twin1: { dn: `cn=twin one,${LDAP_PEOPLE}`, uid: "twin", password: "twin-pass-4", mail: "twin1@example.test", cn: "Twin One" },
  twin2: { dn: `cn=twin two,${LDAP_PEOPLE}`, uid: "twin", password: "twin-pass-4", mail: "twin2@example.test", cn: "Twin Two" },
} satisfies Record<string, LdapTestUser>;
/** Carol's AD-style names. */
export const CAROL_AD = { sAMAccountName: "cshaw", userPrincipalName: "cshaw@corp.example.test" };

/** A running slapd. */
export interface SlapdHandle extends ServiceHandle {
  /** The plain listener (StartTLS offered). */
  url: string;
  /** The ldaps listener. */
  ldapsUrl: string;
  ldapsPort: number;
  /** PEM file of the CA that signed the server certificate (for `LDAP_CA_CERT_FILE`). */
  caFile: string;
  /** A second CA that signed nothing here: trusting only it must refuse the server. */
  otherCaFile: string;
  /** Stops the process but keeps its data: {@link up} starts it again on the same ports. */
  down(): Promise<void>;
  /** Starts it again after {@link down}. */
  up(): Promise<void>;
  /** SIGSTOP: connections are accepted by the kernel but never answered (a hung directory). */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** An ldapts client bound as the directory manager, for changing the tree during a test. Unbind it. */
  admin(): Promise<Client>;
}

const SCHEMA = `attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.1.1 NAME 'gatehouseAdUser' SUP top AUXILIARY MAY ( userPrincipalName $ sAMAccountName ) )
`;

function slapdConf(dir: string): string {
  return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include ${dir}/ad-lite.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
# Many directories (Active Directory among them) accept a DN with an empty password as an
# "unauthenticated bind" that succeeds: the tests must prove Gatehouse never relies on a bind
# with an empty password.
allow bind_anon_dn
TLSCACertificateFile ${dir}/ca.pem
TLSCertificateFile ${dir}/server.pem
TLSCertificateKeyFile ${dir}/server.key
database mdb
maxsize 33554432
suffix "${LDAP_BASE}"
rootdn "${ROOT.dn}"
rootpw ${ROOT.password}
directory ${dir}/db
access to attrs=userPassword by anonymous auth by self write by * none
access to * by users read by * none
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
`;
}

async function openssl(args: string[], dir: string): Promise<void> {
  const r = await runCommand(["openssl", ...args], { timeoutMs: 30_000, cwd: dir });
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed (exit ${r.code}): ${r.out.slice(-1000)}`);
}

/** A CA and a server certificate for 127.0.0.1/localhost signed by it; plus an unrelated CA. */
async function makeCertificates(dir: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const caExt = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"];
  await openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Gatehouse Test LDAP CA", ...caExt], dir);
  await openssl(["req", "-x509", ...ec, "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=Unrelated Test CA", ...caExt], dir);
  await openssl(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], dir);
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
  await openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"], dir);
}

async function adminClient(url: string): Promise<Client> {
  const client = new Client({ url, timeout: 5000, connectTimeout: 2000 });
  await client.bind(ROOT.dn, ROOT.password);
  return client;
}

const person = (u: LdapTestUser, extra: Record<string, string | string[]> = {}) => ({
  objectClass: ["inetOrgPerson", ...(extra["objectClass"] ?? [])],
  cn: u.cn, sn: u.cn.split(" ").at(-1)!, uid: u.uid, userPassword: u.password,
  ...(u.mail ? { mail: u.mail } : {}),
  ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "objectClass")),
});

/** Loads the test tree online, so the memberof overlay fills `memberOf`. */
async function loadTree(url: string): Promise<void> {
  const c = await adminClient(url);
  try {
    await c.add(LDAP_BASE, { objectClass: ["dcObject", "organization"], dc: "gatehouse", o: "Gatehouse Test" });
    for (const ou of ["people", "groups", "services"]) await c.add(`ou=${ou},${LDAP_BASE}`, { objectClass: "organizationalUnit", ou });
    await c.add(LDAP_APP.dn, { objectClass: ["applicationProcess", "simpleSecurityObject"], cn: "gatehouse-app", userPassword: LDAP_APP.password });
    const { ada, bob, carol, twin1, twin2 } = LDAP_USERS;
    await c.add(ada.dn, person(ada));
    await c.add(bob.dn, person(bob));
    await c.add(carol.dn, person(carol, { objectClass: ["gatehouseAdUser"], ...CAROL_AD }));
    await c.add(twin1.dn, person(twin1));
    await c.add(twin2.dn, person(twin2));
    await c.add(`cn=engineers,${LDAP_GROUPS}`, { objectClass: "groupOfNames", cn: "engineers", member: [ada.dn, carol.dn, twin1.dn, twin2.dn] });
    await c.add(`cn=staff,${LDAP_GROUPS}`, { objectClass: "groupOfNames", cn: "staff", member: [ada.dn, bob.dn, carol.dn] });
  } finally {
    await c.unbind();
  }
}

/**
 * Starts slapd on two free loopback ports with a fresh tree, and resolves once the directory
 * manager can bind and the tree is loaded.
 */
export async function startSlapd(): Promise<SlapdHandle> {
  await ensureSlapd();
  const dir = makeTempDir("slapd");
  try {
    mkdirSync(join(dir, "db"));
    writeFileSync(join(dir, "ad-lite.schema"), SCHEMA);
    writeFileSync(join(dir, "slapd.conf"), slapdConf(dir));
    await makeCertificates(dir);
    let proc: Subprocess | undefined;
    let port = 0;
    let ldapsPort = 0;
    const logFile = join(dir, "slapd.log");
    const launch = async () => {
      const url = `ldap://${HOST}:${port}/ ldaps://${HOST}:${ldapsPort}/`;
      const p = spawnLogged([SLAPD, "-f", join(dir, "slapd.conf"), "-h", url, "-d", "0"], logFile, dir);
      proc = p;
      await waitFor(`slapd on ${HOST}:${port}`, 15_000, async () => {
        if (hasExited(p)) throw new FatalStartupError(withLog(`slapd exited during startup (code ${p.exitCode})`, logFile));
        const c = await adminClient(`ldap://${HOST}:${port}`);
        await c.unbind();
        return true;
      }, logFile);
    };
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      ldapsPort = await freePort();
      try {
        await launch();
        break;
      } catch (e) {
        proc?.kill("SIGKILL");
        await proc?.exited;
        if (attempt < 3 && /address already in use/i.test(tail(logFile, 2000))) continue;
        throw e;
      }
    }
    await loadTree(`ldap://${HOST}:${port}`);
    const stopProcess = async () => {
      const p = proc;
      if (!p || hasExited(p)) return;
      p.kill("SIGCONT");
      p.kill("SIGTERM");
      const exited = await Promise.race([p.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
      if (!exited) {
        p.kill("SIGKILL");
        await Promise.race([p.exited, Bun.sleep(5_000)]);
      }
    };
    let stopping: Promise<void> | undefined;
    const handle: SlapdHandle = {
      port, ldapsPort,
      get pid() {
        return proc!.pid;
      },
      url: `ldap://${HOST}:${port}`,
      ldapsUrl: `ldaps://${HOST}:${ldapsPort}`,
      caFile: join(dir, "ca.pem"),
      otherCaFile: join(dir, "other-ca.pem"),
      down: stopProcess,
      up: launch,
      pause: () => proc?.kill("SIGSTOP"),
      resume: () => proc?.kill("SIGCONT"),
      admin: () => adminClient(`ldap://${HOST}:${port}`),
      stop() {
        stopping ??= (async () => {
          running.delete(handle);
          await stopProcess();
          removeDir(dir);
        })();
        return stopping;
      },
    };
    running.add(handle);
    return handle;
  } catch (e) {
    removeDir(dir);
    throw e;
  }
}
