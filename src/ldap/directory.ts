import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { Client, InvalidCredentialsError, ResultCodeError, SizeLimitExceededError } from "ldapts";
import type { LdapConfig } from "../config/config.ts";
import { Permits, type PermitRefusal } from "../db/permits.ts";
import type { Logger } from "../observability/logger.ts";
import type { LdapMetrics, LdapOp, LdapOpOutcome } from "../observability/ldap-metrics.ts";
import { userSearchFilter } from "./filter.ts";
import { groupNamesFromDns, values, type RawEntry } from "./entry.ts";
import { LdapAuthFailedError, LdapUnavailableError, type LdapOutage } from "./ldap-errors.ts";
import { TimeoutError, withTimeout } from "../with-timeout.ts";

/** How long after its own deadline an exchange that has not torn itself down is abandoned. */
const DEADLINE_GRACE_MS = 250;

/** What the directory says about a user whose password it just accepted. */
export interface DirectoryUser {
  dn: string;
  /** The username attribute's value that matched (lower-cased). */
  username: string;
  /** Every value of the mail attribute, in the directory's order. */
  mails: string[];
  /** `cn`, when present. */
  commonName: string | null;
  /** Group names (the CN of each group DN); empty unless group management is on. */
  groups: string[];
}

/** The TLS options for ldaps and StartTLS, built once from the configuration. */
export function tlsOptions(c: LdapConfig): ConnectionOptions {
  return {
    host: c.host,
    // SNI carries names only; an address is checked against the certificate's IP SANs.
    ...(isIP(c.host) === 0 ? { servername: c.host } : {}),
    ...(c.caCertPem !== null ? { ca: [c.caCertPem] } : {}),
    rejectUnauthorized: c.validateCert,
    ...(c.validateCert ? {} : { checkServerIdentity: () => undefined }),
    ciphers: c.ciphers,
    minVersion: "TLSv1.2",
  };
}

/** Marks a failure that ended the exchange on the directory's side ("no"), not a fault. */
class Refused extends Error {
  constructor(readonly refusal: LdapAuthFailedError) {
    super(refusal.reason);
  }
}

const TLS_CODES = /^(?:ERR_TLS_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|ERR_SSL_|HOSTNAME_MISMATCH)/;

function faultOf(e: unknown, expired: boolean): Exclude<LdapOpOutcome, "ok" | "refused"> {
  if (expired) return "timeout";
  const code = String((e as { code?: unknown }).code ?? "");
  const message = (e as Error)?.message ?? "";
  if (TLS_CODES.test(code) || /certificate|self.signed|handshake|alert|ssl|tls/i.test(message)) return "tls";
  if (/timeout/i.test(message) || code === "ETIMEDOUT") return "timeout";
  if (/^E(?:CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|PIPE|NOTFOUND|AI_AGAIN)$/.test(code) || /closed|socket|connect/i.test(message)) return "unreachable";
  return "error";
}

/**
 * Talks to the directory for one sign-in with ldapts: bind as the application account,
 * search for exactly one entry by the escaped user value, bind as that entry with the
 * password. One connection per sign-in (TLS from the first byte or StartTLS before any
 * credential is sent); at most `maxConcurrency` exchanges at once; the whole exchange,
 * waiting for a slot included, ends within `timeoutMs` (the socket is destroyed at the
 * deadline, so no operation outlives it).
 */
export class LdapDirectory {
  readonly #permits: Permits;
  readonly #tls: ConnectionOptions;

  constructor(
    private readonly config: LdapConfig,
    private readonly metrics: LdapMetrics,
    private readonly log: Logger,
  ) {
    // Waiters are bounded too (and each waits at most the timeout): a flood is refused with 503, not queued without end.
    this.#permits = new Permits(config.maxConcurrency, Math.max(64, config.maxConcurrency * 8));
    this.#tls = tlsOptions(config);
  }

  /** Exchanges in flight and queued (for tests and metrics). */
  get load(): { held: number; waiting: number } {
    return { held: this.#permits.held, waiting: this.#permits.waiting };
  }

  /**
   * Checks `user` / `password` against the directory.
   * @throws LdapAuthFailedError when the directory says no (unknown, ambiguous, mismatched user, wrong password);
   *   LdapUnavailableError (503) when it cannot be asked in time, refuses TLS or refuses the application account.
   */
  async authenticate(user: string, password: string): Promise<DirectoryUser> {
    // A simple bind with a DN and an empty password is an "unauthenticated bind", which many
    // directories answer with success: it must never be sent.
    if (password === "") throw new LdapAuthFailedError("empty_password");
    const deadline = performance.now() + this.config.timeoutMs;
    try {
      await this.#permits.acquire(this.config.timeoutMs);
    } catch (why) {
      this.log.warn({ why: why as PermitRefusal, limit: this.config.maxConcurrency }, "LDAP sign-in refused: every directory slot is busy");
      throw new LdapUnavailableError(why === "saturated" ? "saturated" : "timeout");
    }
    const exchange = this.#exchange(user, password, deadline);
    // The slot is held until the exchange has really ended, so the bound holds.
    void exchange.catch(() => {}).finally(() => this.#permits.release());
    // The exchange tears itself down at the deadline; this is the guarantee that the caller is
    // answered then even if a library call ignored that.
    const remaining = Math.max(1, Math.ceil(deadline - performance.now()));
    return withTimeout(exchange, remaining + DEADLINE_GRACE_MS, "LDAP exchange").catch((e: unknown) => {
      if (e instanceof TimeoutError) throw new LdapUnavailableError("timeout");
      throw e;
    });
  }

  async #exchange(user: string, password: string, deadline: number): Promise<DirectoryUser> {
    const c = this.config;
    const remaining = Math.max(1, Math.ceil(deadline - performance.now()));
    // Every socket ldapts opens (plain, ldaps, or the TLS layer of StartTLS) is kept, so the
    // deadline can tear it down even mid-connect, when ldapts has nothing to unbind yet.
    const sockets: Socket[] = [];
    const keep = <S extends Socket>(s: S): S => (sockets.push(s), s);
    const client = new Client({
      url: c.url,
      connectTimeout: Math.min(c.connectTimeoutMs, remaining),
      timeout: remaining,
      // ldapts speaks TLS from the first byte whenever tlsOptions are given: only for ldaps.
      ...(c.tls === "ldaps" ? { tlsOptions: this.#tls } : {}),
      createConnection: ((...args: Parameters<typeof netConnect>) => keep(netConnect(...args))) as typeof netConnect,
      createSecureConnection: ((...args: Parameters<typeof tlsConnect>) => keep(tlsConnect(...args))) as typeof tlsConnect,
      // Active Directory binds as user@domain, which is not a DN.
      strictDN: false,
    });
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      // The operation in flight (a connect included) rejects now rather than at its own timeout.
      for (const socket of sockets) socket.destroy(new Error("LDAP exchange deadline passed"));
    }, remaining);
    const step = async <T>(op: LdapOp, run: () => Promise<T>): Promise<T> => {
      // ldapts reconnects on demand: never start an operation after the deadline tore the socket down.
      if (expired) throw new LdapUnavailableError("timeout");
      const started = performance.now();
      try {
        const out = await run();
        if (expired) throw new LdapUnavailableError("timeout");
        this.metrics.observe(op, "ok", (performance.now() - started) / 1000);
        return out;
      } catch (e) {
        throw this.#failure(op, e, expired, (performance.now() - started) / 1000);
      }
    };
    try {
      if (c.tls === "starttls") await step("starttls", () => client.startTLS({ ...this.#tls }));
      if (c.appDn !== null) await step("bind_app", () => client.bind(c.appDn!, c.appPassword ?? ""));
      const attributes = ["cn", c.attributeForUsername, c.attributeForMail, ...(c.groupManagement ? [c.attributeForGroups] : [])];
      const entries = await step("search", async () => {
        const r = await client.search(c.searchBase, {
          scope: "sub",
          filter: userSearchFilter(c.attributeForUsername, user, c.searchFilter),
          attributes,
          // Two are enough to know the answer is not exactly one.
          sizeLimit: 2,
          timeLimit: Math.max(1, Math.ceil(remaining / 1000)),
        });
        if (r.searchEntries.length === 0) throw new Refused(new LdapAuthFailedError("unknown_user"));
        if (r.searchEntries.length > 1) throw new Refused(new LdapAuthFailedError("ambiguous_user"));
        return r.searchEntries as RawEntry[];
      });
      const entry = entries[0]!;
      // Open WebUI's "User record mismatch" check: the entry must carry exactly the name typed.
      const username = values(entry, c.attributeForUsername).map((v) => v.toLowerCase()).find((v) => v === user.toLowerCase());
      if (username === undefined) throw new LdapAuthFailedError("user_mismatch");
      await step("bind_user", () => client.bind(entry.dn, password));
      return {
        dn: entry.dn,
        username,
        mails: values(entry, c.attributeForMail),
        commonName: values(entry, "cn")[0] ?? null,
        groups: c.groupManagement ? groupNamesFromDns(values(entry, c.attributeForGroups)) : [],
      };
    } finally {
      clearTimeout(timer);
      if (!expired) await client.unbind().catch(() => {});
    }
  }

  /** Records a failed operation and says what the caller sees: the directory's "no" (400) or an outage (503). */
  #failure(op: LdapOp, e: unknown, expired: boolean, seconds: number): LdapAuthFailedError | LdapUnavailableError {
    if (e instanceof Refused) {
      this.metrics.observe(op, "refused", seconds);
      return e.refusal;
    }
    if (e instanceof LdapUnavailableError) {
      this.metrics.observe(op, "timeout", seconds);
      return e;
    }
    // Wrong password, locked or expired account (AD answers 49 with a sub-code): the directory's "no".
    const refusal = expired ? null
      : op === "bind_user" && e instanceof ResultCodeError ? "password"
      : op === "search" && e instanceof SizeLimitExceededError ? "ambiguous_user"
      : null;
    if (refusal !== null) {
      this.metrics.observe(op, "refused", seconds);
      return new LdapAuthFailedError(refusal);
    }
    const fault = faultOf(e, expired);
    this.metrics.observe(op, fault, seconds);
    const appRefused = op === "bind_app" && e instanceof InvalidCredentialsError;
    const outage: LdapOutage = appRefused ? "app_bind" : fault;
    this.log[appRefused || fault === "tls" || fault === "error" ? "error" : "warn"](
      { op, outage, err: (e as Error).message, code: (e as { code?: unknown }).code },
      appRefused ? "LDAP application bind refused: check LDAP_APP_DN and LDAP_APP_PASSWORD" : "LDAP directory unavailable",
    );
    return new LdapUnavailableError(outage);
  }
}
