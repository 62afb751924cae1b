import { Counter, Histogram, type Registry } from "prom-client";

/** One directory operation of a sign-in. */
export type LdapOp = "starttls" | "bind_app" | "search" | "bind_user";
/** How it ended: `refused` is the directory's "no" (wrong password, no such entry), the rest are faults. */
export type LdapOpOutcome = "ok" | "refused" | "timeout" | "unreachable" | "tls" | "error";

/** `gatehouse_ldap_operations_total{op,outcome}` and `gatehouse_ldap_operation_duration_seconds{op}`. */
export interface LdapMetrics {
  observe(op: LdapOp, outcome: LdapOpOutcome, seconds: number): void;
}

/** Registers the LDAP metrics on `registry`. */
export function createLdapMetrics(registry: Registry): LdapMetrics {
  const ops = new Counter({
    name: "gatehouse_ldap_operations_total",
    help: "LDAP operations of sign-ins by operation and outcome",
    labelNames: ["op", "outcome"], registers: [registry],
  });
  const latency = new Histogram({
    name: "gatehouse_ldap_operation_duration_seconds",
    help: "LDAP operation latency (connect included for the first operation of a sign-in)",
    labelNames: ["op"], registers: [registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  return {
    observe(op, outcome, seconds) {
      ops.labels(op, outcome).inc();
      latency.labels(op).observe(seconds);
    },
  };
}
