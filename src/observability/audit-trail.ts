import { Counter, type Registry } from "prom-client";
import type { Logger } from "./logger.ts";

/** The auth events Gatehouse audits. */
export type AuditEvent = "signin" | "signup" | "signout" | "token" | "revocation" | "oauth_login" | "oauth_refresh"
  | "group_change" | "scim" | "mfa";

/** How an audited event ended. */
export type AuditOutcome = "success" | "failure" | "rate_limited" | "refused" | "ended";

/**
 * Structured audit lines (`"audit": "<event>"` plus outcome and ids, never a secret) and
 * the `gatehouse_auth_events_total{event,outcome}` counter behind the dashboard's auth panel.
 */
export class AuditTrail {
  readonly #events: Counter<"event" | "outcome">;

  constructor(private readonly log: Logger, registry: Registry) {
    this.#events = new Counter({
      name: "gatehouse_auth_events_total",
      help: "Auth events by kind and outcome (sign-ins, sign-ups, sign-outs, refused tokens, revocations, OAuth logins and refreshes)",
      labelNames: ["event", "outcome"], registers: [registry],
    });
  }

  /**
   * Counts the event and writes one audit line. `fields` carry ids, methods and reasons:
   * callers never pass passwords or tokens (and the logger redacts those names anyway).
   */
  record(event: AuditEvent, outcome: AuditOutcome, fields: Record<string, unknown> = {}): void {
    this.#events.labels(event, outcome).inc();
    const level = outcome === "success" || outcome === "ended" ? "info" : "warn";
    this.log[level]({ audit: event, outcome, ...fields }, `auth ${event} ${outcome}`);
  }
}
