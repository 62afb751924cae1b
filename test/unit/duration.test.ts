import { expect, test } from "bun:test";
import vectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import { parseOpenWebUIDuration } from "../../src/config/duration.ts";

// The cases Open WebUI's own parse_duration gives (compat/README.md).
const CASES: Array<[string, number | null]> = [
  ["-1", null], ["0", null], ["0s", null], ["0d", null],
  ["4w", 2419200], ["1d12h", 129600], ["1.5h", 5400], ["500ms", 0.5],
  ["-5m", -300], ["10min", 600], ["1mo", 60],
];

for (const [input, seconds] of CASES) {
  test(`JWT_EXPIRES_IN=${input} → ${seconds === null ? "never" : seconds + " s"}`, () => {
    expect(parseOpenWebUIDuration(input)).toBe(seconds);
  });
}

test("'2 weeks' is rejected like Open WebUI", () => {
  expect(() => parseOpenWebUIDuration("2 weeks")).toThrow(RangeError);
});

test("the compat vectors are readable from the test tree", () => {
  expect(vectors.jwt_with_exp_decoded.exp).toBe(4102444800);
});
