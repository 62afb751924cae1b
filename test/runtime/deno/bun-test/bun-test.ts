/**
 * The part of `bun:test` the unit tests use, on Deno's node:test and node:assert, so the same
 * unit test files run under `deno test` (mapped by test/runtime/deno/bun-test/import-map.json).
 * Not a general Jest clone: a matcher the unit tests start using must be added here.
 */
import { after, afterEach as nodeAfterEach, before, beforeEach as nodeBeforeEach, describe as nodeDescribe, test as nodeTest } from "node:test";
import assert from "node:assert/strict";

type Fn = () => unknown;

export const describe = (name: string, fn: () => void) => nodeDescribe(name, fn);
export const test = (name: string, fn: Fn, _timeout?: number) => nodeTest(name, async () => void (await fn()));
export const it = test;
export const beforeAll = (fn: Fn) => before(async () => void (await fn()));
export const afterAll = (fn: Fn) => after(async () => void (await fn()));
export const beforeEach = (fn: Fn) => nodeBeforeEach(async () => void (await fn()));
export const afterEach = (fn: Fn) => nodeAfterEach(async () => void (await fn()));

/** Deep equality as Bun's toEqual: undefined-valued properties are ignored. */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v instanceof Uint8Array || v instanceof Date || v instanceof Map || v instanceof Set || v instanceof RegExp) return v;
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = normalise(x);
    return out;
  }
  return v;
}

function deepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(normalise(a), normalise(b));
    return true;
  } catch {
    return false;
  }
}

function matchesObject(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== "object") return deepEqual(actual, expected);
  if (actual === null || typeof actual !== "object") return false;
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matchesObject(actual[i], e));
  return Object.entries(expected).every(([k, e]) => matchesObject((actual as Record<string, unknown>)[k], e));
}

function thrown(fn: unknown): unknown {
  try {
    (fn as () => unknown)();
  } catch (e) {
    return e;
  }
  return undefined;
}

function errorMatches(err: unknown, expected: unknown): boolean {
  if (expected === undefined) return true;
  if (typeof expected === "function") return err instanceof (expected as new () => unknown);
  const message = String((err as Error)?.message ?? err);
  if (typeof expected === "string") return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  return matchesObject(err, expected);
}

type Matchers = Record<string, (...args: unknown[]) => unknown>;

function matchers(actual: unknown, negate: boolean): Matchers {
  const check = (ok: boolean, what: string, expected?: unknown) => {
    if (ok === negate) {
      assert.fail(`expected ${Deno.inspect(actual, { depth: 6 })} ${negate ? "not " : ""}${what}${expected === undefined ? "" : ` ${Deno.inspect(expected, { depth: 6 })}`}`);
    }
  };
  const len = (x: unknown) => (x as { length: number }).length;
  return {
    toBe: (e) => check(Object.is(actual, e), "to be", e),
    toEqual: (e) => check(deepEqual(actual, e), "to equal", e),
    toStrictEqual: (e) => check(deepEqual(actual, e), "to equal", e),
    toMatchObject: (e) => check(matchesObject(actual, e), "to match", e),
    toContain: (e) => check(typeof actual === "string" ? actual.includes(e as string) : [...(actual as Iterable<unknown>)].includes(e), "to contain", e),
    toContainEqual: (e) => check([...(actual as Iterable<unknown>)].some((x) => deepEqual(x, e)), "to contain equal", e),
    toHaveLength: (n) => check(len(actual) === n, "to have length", n),
    toBeNull: () => check(actual === null, "to be null"),
    toBeUndefined: () => check(actual === undefined, "to be undefined"),
    toBeDefined: () => check(actual !== undefined, "to be defined"),
    toBeTruthy: () => check(Boolean(actual), "to be truthy"),
    toBeFalsy: () => check(!actual, "to be falsy"),
    toBeInstanceOf: (c) => check(actual instanceof (c as new () => unknown), "to be an instance of", (c as { name: string }).name),
    toBeGreaterThan: (n) => check((actual as number) > (n as number), "to be >", n),
    toBeGreaterThanOrEqual: (n) => check((actual as number) >= (n as number), "to be >=", n),
    toBeLessThan: (n) => check((actual as number) < (n as number), "to be <", n),
    toBeLessThanOrEqual: (n) => check((actual as number) <= (n as number), "to be <=", n),
    toMatch: (re) => check(typeof re === "string" ? String(actual).includes(re) : (re as RegExp).test(String(actual)), "to match", re),
    toStartWith: (p) => check(String(actual).startsWith(p as string), "to start with", p),
    toEndWith: (p) => check(String(actual).endsWith(p as string), "to end with", p),
    toThrow: (e) => {
      const err = thrown(actual);
      check(err !== undefined && errorMatches(err, e), "to throw", e);
    },
    toHaveBeenCalled: () => check(((actual as { mock?: { calls: unknown[] } }).mock?.calls.length ?? 0) > 0, "to have been called"),
    toHaveBeenCalledTimes: (n) => check(((actual as { mock?: { calls: unknown[] } }).mock?.calls.length ?? 0) === n, "to have been called times", n),
  };
}

type Expectation = Matchers & { not: Matchers; rejects: Record<string, (...a: unknown[]) => Promise<void>>; resolves: Record<string, (...a: unknown[]) => Promise<void>> };

/** `expect(value)` with the matchers above, `.not`, `.rejects` and `.resolves`. */
export function expect(actual: unknown): Expectation {
  const settle = (wantRejection: boolean) =>
    new Proxy({} as Record<string, (...a: unknown[]) => Promise<void>>, {
      get: (_t, name: string) => async (...args: unknown[]) => {
        let value: unknown;
        let rejected = false;
        try {
          value = await (actual as Promise<unknown>);
        } catch (e) {
          value = e;
          rejected = true;
        }
        assert.equal(rejected, wantRejection, `expected the promise to ${wantRejection ? "reject" : "resolve"}`);
        if (wantRejection && name === "toThrow") {
          assert.ok(errorMatches(value, args[0]), `rejection ${String(value)} does not match`);
          return;
        }
        matchers(value, false)[name]!(...args);
      },
    });
  return Object.assign(matchers(actual, false), { not: matchers(actual, true), rejects: settle(true), resolves: settle(false) }) as Expectation;
}

/** Bun's `spyOn`: wraps `obj[key]`, records calls, `mockRestore()` puts the original back. */
export function spyOn<T extends object, K extends keyof T>(obj: T, key: K) {
  const original = obj[key] as unknown as (...a: unknown[]) => unknown;
  const calls: unknown[][] = [];
  const spy = Object.assign(
    function (this: unknown, ...args: unknown[]) {
      calls.push(args);
      return original.apply(this, args);
    },
    { mock: { calls }, mockRestore: () => void (obj[key] = original as T[K]) },
  );
  obj[key] = spy as unknown as T[K];
  return spy;
}

declare const Deno: { inspect(v: unknown, o?: { depth?: number }): string };
