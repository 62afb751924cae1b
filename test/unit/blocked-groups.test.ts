import { describe, expect, test } from "bun:test";
import { blockedGroupMatcher, UnsafeGroupPatternError } from "../../src/config/group-patterns.ts";

describe("OAUTH_BLOCKED_GROUPS matcher", () => {
  test("exact names, shell wildcards and regexes, as Open WebUI reads them", () => {
    const m = blockedGroupMatcher(["Domain Users", "sys-*", "app-?", "^temp-\\d+$", "(contractor|vendor)"]);
    expect(m("Domain Users")).toBe(true);
    expect(m("domain users")).toBe(false);
    expect(m("sys-core")).toBe(true);
    expect(m("xsys-core")).toBe(false);
    expect(m("app-1")).toBe(true);
    expect(m("app-12")).toBe(false);
    expect(m("temp-123")).toBe(true);
    expect(m("temp-12a")).toBe(false);
    expect(m("external-vendor-team")).toBe(true);
    expect(m("engineering")).toBe(false);
  });

  test("regexes that can backtrack catastrophically are refused", () => {
    for (const p of ["(a+)+$", "^(a|aa)*$", "((ab)*)+", "(x+x+)+y", "(.*a){2,}", "(\\w+\\s?)*$", "^(a)\\1$", "a+b+c+d+", "[", "x".repeat(300) + "+"]) {
      expect(() => blockedGroupMatcher([p])).toThrow(UnsafeGroupPatternError);
    }
    for (const p of ["^team-(a|b)$", "^(?:ops|dev)-[a-z]+$", "^[a-z]+-admins$", "(foo)?bar"]) {
      expect(() => blockedGroupMatcher([p])).not.toThrow();
    }
  });

  test("a 10 000-character name against an accepted pattern returns at once (names over 255 chars are not regex-matched)", () => {
    const m = blockedGroupMatcher(["^[a-z]+-[a-z]+-x$"]);
    expect(m("a".repeat(10_000))).toBe(false);
  });
});
