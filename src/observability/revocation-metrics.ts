import { Histogram, type Registry } from "prom-client";

/** Observes how long a revocation took to reach this instance from the one that made it. */
export type PropagationObserver = (seconds: number) => void;

/**
 * Registers `gatehouse_revocation_propagation_seconds`: publish time on the revoking instance
 * to the moment this instance's replica applied it. Across hosts it includes their clock
 * difference, so negative values (a clock ahead of ours) are counted as 0.
 */
export function createRevocationMetrics(registry: Registry): PropagationObserver {
  const h = new Histogram({
    name: "gatehouse_revocation_propagation_seconds",
    help: "Revocation publish (peer instance) to applied in this instance's replica",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return (seconds) => h.observe(Math.max(0, seconds));
}
