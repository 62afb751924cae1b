import { describe, expect, test } from "bun:test";
import { CachedDocument, DocumentUnavailableError, freshnessMs } from "../../src/oauth/cached-document.ts";

const POLICY = { defaultTtlMs: 3_600_000, minTtlMs: 1_000, maxTtlMs: 86_400_000, failureBackoffMs: 2_000 };
const h = (o: Record<string, string>) => new Headers(o);

describe("freshnessMs", () => {
  test("max-age (minus Age), no-store/no-cache, Expires − Date, default, clamped to the bounds", () => {
    expect(freshnessMs(h({ "cache-control": "public, max-age=600" }), POLICY)).toBe(600_000);
    expect(freshnessMs(h({ "cache-control": "max-age=600", age: "100" }), POLICY)).toBe(500_000);
    expect(freshnessMs(h({ "cache-control": "no-store" }), POLICY)).toBe(1_000);
    expect(freshnessMs(h({ "cache-control": "private, no-cache" }), POLICY)).toBe(1_000);
    expect(freshnessMs(h({ date: "Sun, 06 Dec 2026 06:00:00 GMT", expires: "Sun, 06 Dec 2026 06:10:00 GMT" }), POLICY)).toBe(600_000);
    expect(freshnessMs(h({}), POLICY)).toBe(3_600_000);
    expect(freshnessMs(h({ "cache-control": "max-age=31536000" }), POLICY)).toBe(86_400_000);
    expect(freshnessMs(h({ "cache-control": "max-age=0" }), POLICY)).toBe(1_000);
  });
});

describe("CachedDocument", () => {
  test("serves the cached value while fresh, the stale one when a reload fails, and backs off after a failed first load", async () => {
    let now = 0;
    let loads = 0;
    let fail = false;
    const doc = new CachedDocument(async () => {
      loads++;
      if (fail) throw new Error("down");
      return { value: loads, response: new Response(null, { headers: { "cache-control": "max-age=10" } }) };
    }, POLICY, () => now);
    expect(await doc.get()).toBe(1);
    now = 9_000;
    expect(await doc.get()).toBe(1);
    now = 10_001;
    fail = true;
    expect(await doc.get()).toBe(1); // stale, the reload failed
    expect(await doc.get()).toBe(1); // within the backoff: not asked again
    expect(loads).toBe(2);
    fail = false;
    now += 2_001;
    expect(await doc.get()).toBe(3);

    const down = new CachedDocument<number>(async () => {
      throw new Error("down");
    }, POLICY, () => now);
    await expect(down.get()).rejects.toThrow("down");
    await expect(down.get()).rejects.toBeInstanceOf(DocumentUnavailableError);
  });
});
