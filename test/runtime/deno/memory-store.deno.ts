// The in-memory store on Deno: Web APIs only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "../../../src/kv/memory.ts";

test("memory store: set/get/ttl/hash/pub-sub on Deno", async () => {
  const s = new MemoryStore({ prefix: "deno" });
  try {
    await s.set("a", "1", { ttlMs: 60_000 });
    assert.equal(await s.get("a"), "1");
    assert.ok((await s.ttl("a")) > 0);
    assert.equal(await s.incr("n", 3), 3);
    await s.hset("h", "f", "v");
    assert.deepEqual(await s.hgetall("h"), { f: "v" });
    const got: string[] = [];
    await s.subscribe("c", (m) => got.push(m));
    await s.publish("c", "hi");
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ["hi"]);
    assert.equal(s.wireKey("x"), "deno:x");
  } finally {
    await s.close();
  }
});
