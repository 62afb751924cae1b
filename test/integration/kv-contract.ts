import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KeyValueStore } from "../../src/kv/store.ts";
import { StoreUnavailableError } from "../../src/kv/errors.ts";
import { waitFor } from "../helpers/wait.ts";

/** Reads a wire key bypassing the store (a plain client), to prove the prefix is applied. */
export type RawGet = (wireKey: string) => Promise<string | null>;

/**
 * The behaviour every store must share, as one describe block. `make` is called once; the
 * store is closed afterwards, then `cleanup` runs. Without `rawGet` (the memory store) the
 * prefix test checks `wireKey` only.
 */
export function storeContract(name: string, make: () => Promise<KeyValueStore>, cleanup?: () => Promise<void>, rawGet?: RawGet): void {
  describe(`store contract: ${name}`, () => {
    let s: KeyValueStore;
    beforeAll(async () => {
      s = await make();
    }, 60_000);
    afterAll(async () => {
      await s?.close();
      await cleanup?.();
    });

    test("get / set / overwrite", async () => {
      expect(await s.get("a")).toBeNull();
      expect(await s.set("a", "1")).toBe(true);
      expect(await s.get("a")).toBe("1");
      await s.set("a", "2");
      expect(await s.get("a")).toBe("2");
    });

    test("set with a TTL expires; a plain set clears the TTL", async () => {
      await s.set("ttl", "x", { ttlMs: 150 });
      expect(await s.get("ttl")).toBe("x");
      const left = await s.ttl("ttl");
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(150);
      await waitFor("key expired", async () => (await s.get("ttl")) === null);
      expect(await s.ttl("ttl")).toBe(-2);
      await s.set("ttl2", "x", { ttlMs: 10_000 });
      await s.set("ttl2", "y");
      expect(await s.ttl("ttl2")).toBe(-1);
    });

    test("onlyIfAbsent (SET NX)", async () => {
      expect(await s.set("nx", "first", { onlyIfAbsent: true })).toBe(true);
      expect(await s.set("nx", "second", { onlyIfAbsent: true })).toBe(false);
      expect(await s.get("nx")).toBe("first");
      expect(await s.set("nx-ttl", "v", { onlyIfAbsent: true, ttlMs: 10_000 })).toBe(true);
      expect(await s.ttl("nx-ttl")).toBeGreaterThan(0);
      await s.set("nx-exp", "v", { ttlMs: 100 });
      await waitFor("nx-exp expired", async () => (await s.get("nx-exp")) === null);
      expect(await s.set("nx-exp", "again", { onlyIfAbsent: true })).toBe(true);
    });

    test("del counts keys that existed", async () => {
      await s.set("d1", "x");
      await s.set("d2", "x");
      expect(await s.del("d1", "d2", "d3")).toBe(2);
      expect(await s.get("d1")).toBeNull();
      expect(await s.del("d1")).toBe(0);
      expect(await s.del()).toBe(0);
    });

    test("delIfValue deletes only while the key holds the value (lock release)", async () => {
      await s.set("lock", "owner-a", { ttlMs: 60_000 });
      expect(await s.delIfValue("lock", "owner-b")).toBe(false);
      expect(await s.get("lock")).toBe("owner-a");
      expect(await s.delIfValue("lock", "owner-a")).toBe(true);
      expect(await s.get("lock")).toBeNull();
      expect(await s.delIfValue("lock", "owner-a")).toBe(false);
    });

    test("incr and incr by; the TTL survives", async () => {
      expect(await s.incr("n")).toBe(1);
      expect(await s.incr("n")).toBe(2);
      expect(await s.incr("n", 10)).toBe(12);
      expect(await s.incr("n", -2)).toBe(10);
      expect(await s.get("n")).toBe("10");
      await s.set("n-ttl", "5", { ttlMs: 10_000 });
      expect(await s.incr("n-ttl")).toBe(6);
      expect(await s.ttl("n-ttl")).toBeGreaterThan(0);
    });

    test("expire and ttl semantics (-1 no expiry, -2 missing)", async () => {
      expect(await s.expire("nope", 1000)).toBe(false);
      await s.set("e", "v");
      expect(await s.ttl("e")).toBe(-1);
      expect(await s.expire("e", 5000)).toBe(true);
      const t = await s.ttl("e");
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThanOrEqual(5000);
      expect(await s.ttl("missing")).toBe(-2);
      expect(await s.expire("e", 100)).toBe(true);
      await waitFor("e expired", async () => (await s.ttl("e")) === -2);
    });

    test("hash operations; deleting the last field deletes the key", async () => {
      expect(await s.hgetall("h")).toEqual({});
      expect(await s.hlen("h")).toBe(0);
      await s.hset("h", "f1", "v1");
      await s.hset("h", "f2", "v2");
      await s.hset("h", "f2", "v2b");
      expect(await s.hget("h", "f1")).toBe("v1");
      expect(await s.hget("h", "nope")).toBeNull();
      expect(await s.hget("no-hash", "f")).toBeNull();
      expect(await s.hlen("h")).toBe(2);
      expect(await s.hgetall("h")).toEqual({ f1: "v1", f2: "v2b" });
      expect(await s.hdel("h", "f1", "zz")).toBe(1);
      expect(await s.hgetall("h")).toEqual({ f2: "v2b" });
      expect(await s.hdel("h", "f2")).toBe(1);
      expect(await s.ttl("h")).toBe(-2);
    });

    test("a command against the wrong type is the caller's error, not an outage", async () => {
      await s.set("str", "abc");
      await s.hset("hash", "f", "v");
      for (const op of [() => s.hget("str", "f"), () => s.get("hash"), () => s.incr("str")]) {
        const err = await op().then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect(err).not.toBeInstanceOf(StoreUnavailableError);
      }
    });

    test("publish / subscribe: two handlers, never synchronous, unsubscribe stops delivery", async () => {
      const a: string[] = [];
      const b: string[] = [];
      let insidePublish = false;
      const during: boolean[] = [];
      const unA = await s.subscribe("chan", (m) => a.push(m));
      const unB = await s.subscribe("chan", (m) => (b.push(m), during.push(insidePublish)));
      insidePublish = true;
      const published = s.publish("chan", "one");
      insidePublish = false;
      // Cluster counts only the receivers on the node that took the PUBLISH.
      expect(await published).toBeGreaterThanOrEqual(s.kind === "cluster" ? 0 : 1);
      await waitFor("both handlers got one", () => a.length === 1 && b.length === 1);
      expect(during).toEqual([false]);
      await unA();
      await s.publish("chan", "two");
      await waitFor("b got two", () => b.length === 2);
      expect(a).toEqual(["one"]);
      expect(b).toEqual(["one", "two"]);
      await unB();
      expect(await s.publish("chan", "three")).toBe(0);
      await Bun.sleep(100);
      expect(b).toEqual(["one", "two"]);
    });

    test("a throwing handler does not stop the others; one function subscribed twice counts twice", async () => {
      const got: string[] = [];
      const fn = (m: string) => got.push(m);
      const unThrow = await s.subscribe("chan2", () => {
        throw new Error("handler bug");
      });
      const un1 = await s.subscribe("chan2", fn);
      const un2 = await s.subscribe("chan2", fn);
      await s.publish("chan2", "x");
      await waitFor("delivered twice", () => got.length === 2);
      await un1();
      await s.publish("chan2", "y");
      await waitFor("delivered once more", () => got.length === 3);
      expect(got).toEqual(["x", "x", "y"]);
      await un2();
      await unThrow();
      // Unsubscribing twice is harmless, even after the channel has a new subscriber.
      await un1();
      const later: string[] = [];
      const unLater = await s.subscribe("chan2", (m) => later.push(m));
      await un2();
      await s.publish("chan2", "z");
      await waitFor("the newer subscriber still receives", () => later.length === 1);
      await unLater();
    });

    test("concurrent first subscribers of a channel both receive the first message", async () => {
      const a: string[] = [];
      const b: string[] = [];
      const [unA, unB] = await Promise.all([s.subscribe("chan3", (m) => a.push(m)), s.subscribe("chan3", (m) => b.push(m))]);
      await s.publish("chan3", "first");
      await waitFor("both got first", () => a.length === 1 && b.length === 1);
      await Promise.all([unA(), unB()]);
    });

    test("the prefix is applied to keys", async () => {
      expect(s.prefix.length).toBeGreaterThan(0);
      expect(s.wireKey("auth:token:abc:revoked")).toBe(`${s.prefix}:auth:token:abc:revoked`);
      await s.set("auth:token:abc:revoked", "1");
      if (rawGet) {
        expect(await rawGet(`${s.prefix}:auth:token:abc:revoked`)).toBe("1");
        expect(await rawGet("auth:token:abc:revoked")).toBeNull();
      }
    });

    test("unicode and a 100 KB value round-trip", async () => {
      const text = "héllo ✓ 🎉 日本 \u0000 end";
      await s.set("u", text);
      expect(await s.get("u")).toBe(text);
      await s.hset("uh", "ключ 🔑", text);
      expect(await s.hgetall("uh")).toEqual({ "ключ 🔑": text });
      const big = "x".repeat(100 * 1024) + "✓";
      await s.set("big", big);
      expect(await s.get("big")).toBe(big);
    });
  });
}
