import { describe, expect, test } from "bun:test";
import { headerBytes, withRequestLimits } from "../../src/http/request-limits.ts";
import { appendHeaders } from "../../src/http/respond.ts";
import { peerAddress, recordPeerAddress, recordPeerSource } from "../../src/net/client-address.ts";

/** The count as `forEach` gives it: the definition headerBytes must keep. */
function byForEach(headers: Headers): number {
  let n = 0;
  headers.forEach((value, name) => {
    n += name.length + value.length + 4;
  });
  return n;
}

describe("the lighter request path keeps its checks", () => {
  test("header bytes: the same count as forEach, with repeated names and several Set-Cookie", () => {
    const h = new Headers({ authorization: `Bearer ${"x".repeat(300)}`, accept: "*/*" });
    h.append("x-a", "1");
    h.append("x-a", "22");
    h.append("set-cookie", "a=1");
    h.append("set-cookie", "bb=2");
    expect(headerBytes(h)).toBe(byForEach(h));
    expect(headerBytes(new Headers())).toBe(0);
  });

  test("oversized headers still answer 431 with a detail; at the limit the request passes", async () => {
    const inner = () => new Response("ok");
    const h = new Headers({ "x-big": "y".repeat(100) });
    const limit = byForEach(h);
    const atLimit = withRequestLimits(inner, { maxBodyBytes: 10, maxHeaderBytes: limit });
    expect((await atLimit(new Request("http://x/", { headers: h }))).status).toBe(200);
    const below = withRequestLimits(inner, { maxBodyBytes: 10, maxHeaderBytes: limit - 1 });
    const r = await below(new Request("http://x/", { headers: h }));
    expect(r.status).toBe(431);
    expect(((await r.json()) as { detail: string }).detail).toContain("headers too large");
  });

  test("appendHeaders adds both values, copying a response whose headers are immutable", () => {
    const plain = appendHeaders(new Response("x"), "server-timing", "db;dur=0.00", "x-request-id", "r1");
    expect(plain.headers.get("server-timing")).toBe("db;dur=0.00");
    expect(plain.headers.get("x-request-id")).toBe("r1");
    const redirect = appendHeaders(Response.redirect("http://example.com/", 302), "server-timing", "db;dur=1.00", "x-request-id", "r2");
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("http://example.com/");
    expect(redirect.headers.get("server-timing")).toBe("db;dur=1.00");
    expect(redirect.headers.get("x-request-id")).toBe("r2");
  });

  test("the recorded peer belongs to its request only; a source is asked once and only on demand", () => {
    const a = new Request("http://x/a");
    const b = new Request("http://x/b");
    recordPeerAddress(a, "10.0.0.7");
    expect(peerAddress(a)).toBe("10.0.0.7");
    expect(peerAddress(b)).toBe("unknown");
    let asked = 0;
    recordPeerSource(b, { requestIP: () => (asked++, { address: "192.0.2.1" }) });
    expect(asked).toBe(0);
    expect(peerAddress(b)).toBe("192.0.2.1");
    expect(peerAddress(b)).toBe("192.0.2.1");
    expect(asked).toBe(1);
    expect(peerAddress(new Request("http://x/b"))).toBe("unknown");
  });
});
