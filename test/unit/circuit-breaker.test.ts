import { describe, expect, test } from "bun:test";
import { CircuitBreaker, type CircuitTransition } from "../../src/faults/circuit-breaker.ts";

describe("CircuitBreaker", () => {
  const make = (cooldownMs: number) => {
    const c = new CircuitBreaker("thing", { failureThreshold: 2, cooldownMs });
    const seen: string[] = [];
    c.onTransition((t: CircuitTransition) => seen.push(`${t.from}->${t.to}`));
    return { c, seen };
  };

  test("opens after the threshold of consecutive failures; a success in between resets the count", () => {
    const { c, seen } = make(Number.POSITIVE_INFINITY);
    c.failure();
    c.success();
    c.failure();
    expect(c.state).toBe("closed");
    expect(c.allow()).toBe(true);
    c.failure();
    expect(c.state).toBe("open");
    expect(c.down).toBe(true);
    expect(c.allow()).toBe(false);
    expect(seen).toEqual(["closed->open"]);
  });

  test("half-open lets exactly one probe through; its success closes, its failure reopens", () => {
    const { c, seen } = make(0);
    c.failure();
    c.failure();
    expect(c.allow()).toBe(true);
    expect(c.state).toBe("half_open");
    expect(c.allow()).toBe(false);
    c.failure();
    expect(c.state).toBe("open");
    expect(c.allow()).toBe(true);
    c.success();
    expect(c.state).toBe("closed");
    expect(seen).toEqual(["closed->open", "open->half_open", "half_open->open", "open->half_open", "half_open->closed"]);
  });

  test("probeNow: the owner saw the dependency come back, so the next call probes before the cooldown ends", () => {
    const { c } = make(Number.POSITIVE_INFINITY);
    c.failure();
    c.failure();
    expect(c.allow()).toBe(false);
    c.probeNow();
    expect(c.allow()).toBe(true);
    expect(c.state).toBe("half_open");
  });
});
