import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KeyValueStore } from "../../src/kv/store.ts";

/** Waits until `check` holds, polling; fails with `what` after `ms`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await Bun.sleep(20);
  }
  throw new Error(`${what}: did not happen within ${ms} ms`);
}

/**
 * The behaviour every store must share. `rawGet` reads a wire key bypassing the store,
 * to prove the prefix is applied.
 */
export function storeContract(name: string, make: () => Promise<KeyValueStore>, rawGet: (store: KeyValueStore, wireKey: string) => Promise<string | null>): void {
  describe(`store contract: ${name}`, () => {
    let s: KeyValueStore;
    beforeAll(async () => {
      s = await make();
    });
    afterAll(async () => {
      await s.close();
    });

    test("get / set / overwrite", async () => {
      expect(await s.get("a")).toBeNull();
      expect(await s.set("a", "1")).toBe(true);
      expect(await s.get("a")).toBe("1");
      await s.set("a", "2");
      expect(await s.get("a")).toBe("2");
    });

    test("set with a TTL expires", async () => {
      await s.set("ttl", "x", { ttlMs: 150 });
      expect(await s.get("ttl")).toBe("x");
      const left = await s.ttl("ttl");
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(150);
      await eventually("key expired", async () => (await s.get("ttl")) === null);
      expect(await s.ttl("ttl")).toBe(-2);
    });

    test("onlyIfAbsent (SET NX)", async () => {
      expect(await s.set("nx", "first", { onlyIfAbsent: true })).toBe(true);
      expect(await s.set("nx", "second", { onlyIfAbsent: true })).toBe(false);
      expect(await s.get("nx")).toBe("first");
      expect(await s.set("nx-ttl", "v", { onlyIfAbsent: true, ttlMs: 10_000 })).toBe(true);
      expect(await s.ttl("nx-ttl")).toBeGreaterThan(0);
    });

    test("del counts keys that existed", async () => {
      await s.set("d1", "x");
      await s.set("d2", "x");
      expect(await s.del("d1", "d2", "d3")).toBe(2);
      expect(await s.get("d1")).toBeNull();
      expect(await s.del("d1")).toBe(0);
    });

    test("incr and incr by", async () => {
      expect(await s.incr("n")).toBe(1);
      expect(await s.incr("n")).toBe(2);
      expect(await s.incr("n", 10)).toBe(12);
      expect(await s.get("n")).toBe("12");
    });

    test("expire and ttl semantics", async () => {
      expect(await s.expire("nope", 1000)).toBe(false);
      await s.set("e", "v");
      expect(await s.ttl("e")).toBe(-1);
      expect(await s.expire("e", 5000)).toBe(true);
      const t = await s.ttl("e");
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThanOrEqual(5000);
      expect(await s.ttl("missing")).toBe(-2);
    });

    test("hash operations", async () => {
      expect(await s.hgetall("h")).toEqual({});
      expect(await s.hlen("h")).toBe(0);
      await s.hset("h", "f1", "v1");
      await s.hset("h", "f2", "v2");
      expect(await s.hget("h", "f1")).toBe("v1");
      expect(await s.hget("h", "nope")).toBeNull();
      expect(await s.hlen("h")).toBe(2);
      expect(await s.hgetall("h")).toEqual({ f1: "v1", f2: "v2" });
      expect(await s.hdel("h", "f1", "zz")).toBe(1);
      expect(await s.hgetall("h")).toEqual({ f2: "v2" });
    });

    test("publish / subscribe, two handlers, unsubscribe stops delivery", async () => {
      const a: string[] = [];
      const b: string[] = [];
      const unA = await s.subscribe("chan", (m) => a.push(m));
      const unB = await s.subscribe("chan", (m) => b.push(m));
      await s.publish("chan", "one");
      await eventually("both handlers got one", () => a.length === 1 && b.length === 1);
      await unA();
      await s.publish("chan", "two");
      await eventually("b got two", () => b.length === 2);
      expect(a).toEqual(["one"]);
      expect(b).toEqual(["one", "two"]);
      await unB();
      await s.publish("chan", "three");
      await Bun.sleep(100);
      expect(b).toEqual(["one", "two"]);
    });

    test("the prefix is applied to the wire key", async () => {
      await s.set("auth:token:abc:revoked", "1");
      expect(s.wireKey("auth:token:abc:revoked")).toBe(`${s.prefix}:auth:token:abc:revoked`);
      expect(await rawGet(s, `${s.prefix}:auth:token:abc:revoked`)).toBe("1");
      expect(await rawGet(s, "auth:token:abc:revoked")).toBeNull();
    });

    test("unicode and a 100 KB value round-trip", async () => {
      await s.set("u", "héllo ✓ 🎉 日本");
      expect(await s.get("u")).toBe("héllo ✓ 🎉 日本");
      const big = "x".repeat(100 * 1024);
      await s.set("big", big);
      expect(await s.get("big")).toBe(big);
    });
  });
}
