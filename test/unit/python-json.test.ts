import { describe, expect, test } from "bun:test";
import vectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { pythonJsonDumps } from "../../src/crypto/python-json.ts";

describe("pythonJsonDumps", () => {
  test("the Open WebUI fernet_plaintext survives parse → dumps byte for byte", () => {
    expect(pythonJsonDumps(JSON.parse(vectors.fernet_plaintext))).toBe(vectors.fernet_plaintext);
  });

  test("matches CPython 3 json.dumps for unicode, escapes, floats and constants", () => {
    // Expected text produced by /usr/bin/python3: json.dumps({...}) with default arguments.
    const value = {
      name: "Zoë 😀",
      c: '\n\t"\\\x00\x7f\u2028\b\f\r',
      f: [1767225600.5, 0.1, 0.00001, 1e-7, 123.456, -0.5, 0.0001, 5e-324, 0.3e-4, 12345678901234.567, 1234567890123456.7, -2.5e-10],
      n: [NaN, Infinity, -Infinity],
      e: [[], {}],
      b: [true, false, null],
    };
    expect(pythonJsonDumps(value)).toBe(
      '{"name": "Zo\\u00eb \\ud83d\\ude00", "c": "\\n\\t\\"\\\\\\u0000\\u007f\\u2028\\b\\f\\r", ' +
        '"f": [1767225600.5, 0.1, 1e-05, 1e-07, 123.456, -0.5, 0.0001, 5e-324, 3e-05, 12345678901234.566, ' +
        '1234567890123456.8, -2.5e-10], "n": [NaN, Infinity, -Infinity], "e": [[], {}], "b": [true, false, null]}',
    );
  });

  test("astral characters become a surrogate pair of lowercase \\u escapes", () => {
    expect(pythonJsonDumps("𝄞")).toBe('"\\ud834\\udd1e"');
    expect(pythonJsonDumps("é")).toBe('"\\u00e9"');
    expect(pythonJsonDumps("plain ~ ascii")).toBe('"plain ~ ascii"');
  });

  test("integral numbers are Python ints, even beyond 2^53 and 1e21", () => {
    expect(pythonJsonDumps([3600, -7, 2 ** 53, 1e21, -0, 10n ** 30n])).toBe(
      "[3600, -7, 9007199254740992, 1000000000000000000000, 0, 1000000000000000000000000000000]",
    );
  });

  test("PyJWT's compact separators", () => {
    expect(pythonJsonDumps({ a: [1, { b: "c" }], d: null }, { separators: [",", ":"] })).toBe(
      '{"a":[1,{"b":"c"}],"d":null}',
    );
  });

  test("key order is preserved (object order, or Map insertion order)", () => {
    expect(pythonJsonDumps({ z: 1, a: 2, m: 3 })).toBe('{"z": 1, "a": 2, "m": 3}');
    expect(pythonJsonDumps(new Map<string, unknown>([["2", "x"], ["1", "y"]]))).toBe('{"2": "x", "1": "y"}');
  });

  test("values Python cannot serialise throw TypeError", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => pythonJsonDumps(undefined)).toThrow(TypeError);
    expect(() => pythonJsonDumps({ f: () => 1 })).toThrow(TypeError);
    expect(() => pythonJsonDumps(circular)).toThrow(TypeError);
    expect(() => pythonJsonDumps(new Date(0))).toThrow(TypeError);
    expect(() => pythonJsonDumps(new Map([[1, 2]]))).toThrow(TypeError);
  });

  test("a shared (non-circular) sub-object may appear twice", () => {
    const shared = { k: 1 };
    expect(pythonJsonDumps([shared, shared])).toBe('[{"k": 1}, {"k": 1}]');
  });
});
