import { describe, expect, test } from "bun:test";
import { addressBytes, isListedProxy, isTrustedPeer, parseTrustedProxies, type TrustedProxies } from "../../src/net/trusted-proxies.ts";
import { hostAllowed } from "../../src/http/public-base-url.ts";
import { safeNext } from "../../src/pages/next-path.ts";

const parse = (...entries: string[]) => parseTrustedProxies(entries) as TrustedProxies;

describe("trusted proxies", () => {
  test("addresses and CIDR ranges, IPv4 and IPv6; IPv4-mapped IPv6 matches either spelling", () => {
    const p = parse("10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1");
    expect(isListedProxy("10.200.3.4", p)).toBe(true);
    expect(isListedProxy("11.0.0.1", p)).toBe(false);
    expect(isListedProxy("192.168.1.7", p)).toBe(true);
    expect(isListedProxy("192.168.1.8", p)).toBe(false);
    expect(isListedProxy("::ffff:10.1.2.3", p)).toBe(true);
    expect(isListedProxy("fd12:3456::1", p)).toBe(true);
    expect(isListedProxy("fe80::1", p)).toBe(false);
    expect(isListedProxy("0:0:0:0:0:0:0:1", p)).toBe(true);
    expect(isListedProxy("not-an-ip", p)).toBe(false);
  });

  test("odd prefixes and invalid entries", () => {
    expect(isListedProxy("172.31.255.255", parse("172.16.0.0/12"))).toBe(true);
    expect(isListedProxy("172.32.0.0", parse("172.16.0.0/12"))).toBe(false);
    for (const bad of ["10.0.0.0/33", "10.0.0/8", "1.2.3.4/8/1", "example.com", "::1/129", "1:2:3:4:5:6:7:8:9"]) {
      expect({ bad, r: parseTrustedProxies([bad]) }).toEqual({ bad, r: { invalid: bad } });
    }
    expect(addressBytes("1.2.3.256")).toBeNull();
  });

  test("* trusts any peer, but lists no address (so X-Forwarded-For hops are never trusted by it)", () => {
    const p = parse("*");
    expect(isTrustedPeer("203.0.113.9", p)).toBe(true);
    expect(isTrustedPeer("unknown", p)).toBe(false);
    expect(isListedProxy("203.0.113.9", p)).toBe(false);
  });
});

describe("allowed hosts", () => {
  test("empty list: loopback only; entries: exact, host:port, *.suffix; malformed hosts never", () => {
    expect(hostAllowed("localhost:8080", [])).toBe(true);
    expect(hostAllowed("[::1]:8080", [])).toBe(true);
    expect(hostAllowed("evil.example", [])).toBe(false);
    expect(hostAllowed("chat.example.com:8443", ["chat.example.com"])).toBe(true);
    expect(hostAllowed("a.example.com", ["*.example.com"])).toBe(true);
    expect(hostAllowed("example.com", ["*.example.com"])).toBe(false);
    expect(hostAllowed("evil.example/x@chat.example.com", ["chat.example.com"])).toBe(false);
  });
});

describe("next after sign-in", () => {
  test("paths on this site only", () => {
    const own = ["https://chat.example.com"];
    expect(safeNext("/app?x=1#h", own)).toBe("/app?x=1#h");
    expect(safeNext("https://chat.example.com/app", own)).toBe("/app");
    for (const bad of ["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "app", "/a\nb", ""]) {
      expect({ bad, r: safeNext(bad, own) }).toEqual({ bad, r: null });
    }
  });
});
