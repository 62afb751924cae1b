import { Counter, Gauge, type Registry } from "prom-client";
import type { CircuitBreaker, CircuitState } from "../faults/circuit-breaker.ts";
import type { Logger } from "./logger.ts";

const STATE_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, half_open: 2 };

/**
 * Publishes circuit breakers: `gatehouse_circuit_state{dependency}` (0 closed, 1 open,
 * 2 half-open), `gatehouse_circuit_transitions_total{dependency,to}`, and one log line per
 * transition (warn when it opens, info otherwise).
 */
export function observeCircuits(registry: Registry, log: Logger, circuits: readonly CircuitBreaker[]): void {
  const registers = [registry];
  const state = new Gauge({
    name: "gatehouse_circuit_state",
    help: "Circuit breaker state per dependency: 0 closed (healthy), 1 open (failing fast), 2 half-open (probing)",
    labelNames: ["dependency"],
    registers,
  });
  const transitions = new Counter({
    name: "gatehouse_circuit_transitions_total",
    help: "Circuit breaker transitions per dependency and target state",
    labelNames: ["dependency", "to"],
    registers,
  });
  for (const c of circuits) {
    state.set({ dependency: c.dependency }, STATE_VALUE[c.state]);
    c.onTransition((t) => {
      state.set({ dependency: t.dependency }, STATE_VALUE[t.to]);
      transitions.inc({ dependency: t.dependency, to: t.to });
      const line = { dependency: t.dependency, from: t.from, to: t.to, failures: t.failures };
      if (t.to === "open") log.warn(line, `${t.dependency} circuit open: failing fast until it answers again`);
      else log.info(line, `${t.dependency} circuit ${t.to === "closed" ? "closed: back to normal" : "half-open: probing"}`);
    });
  }
}
