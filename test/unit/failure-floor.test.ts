import { describe, expect, test } from "bun:test";
import { FailureFloor } from "../../src/auth/failure-floor.ts";

describe("FailureFloor", () => {
  test("the floor is the slowest recent verification, capped", () => {
    const f = new FailureFloor(500);
    expect(f.floorMs()).toBe(0);
    f.observe(40);
    f.observe(310);
    f.observe(42);
    expect(f.floorMs()).toBe(310);
    f.observe(9_000);
    expect(f.floorMs()).toBe(500);
  });

  test("only the last 64 verifications count: a slow one ages out once every legacy hash is upgraded", () => {
    const f = new FailureFloor();
    f.observe(310);
    for (let i = 0; i < 63; i++) f.observe(40);
    expect(f.floorMs()).toBe(310);
    f.observe(40);
    expect(f.floorMs()).toBe(40);
  });

  test("nonsense samples are ignored", () => {
    const f = new FailureFloor();
    f.observe(Number.NaN);
    f.observe(-5);
    f.observe(Number.POSITIVE_INFINITY);
    expect(f.floorMs()).toBe(0);
  });
});
