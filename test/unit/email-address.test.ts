import { describe, expect, test } from "bun:test";
import { canonicalEmail, EmailAddressError } from "../../src/auth/email-address.ts";

describe("canonicalEmail", () => {
  test("one form: trimmed, NFKC, lower-cased, IDN domain in ASCII", () => {
    expect(canonicalEmail("  Admin@Example.COM ")).toBe("admin@example.com");
    expect(canonicalEmail("\uff21\uff44\uff4d\uff49\uff4e@example.com")).toBe("admin@example.com");
    expect(canonicalEmail("x@B\u00fccher.example")).toBe("x@xn--bcher-kva.example");
    expect(canonicalEmail("x@xn--bcher-kva.example")).toBe("x@xn--bcher-kva.example");
    expect(canonicalEmail("me@localhost")).toBe("me@localhost");
    expect(canonicalEmail("first.last+tag@sub.example.org")).toBe("first.last+tag@sub.example.org");
  });

  test("one script per part is fine, also a non-Latin one and CJK with Latin", () => {
    expect(canonicalEmail("\u0438\u0432\u0430\u043d@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444")).toBe("\u0438\u0432\u0430\u043d@xn--e1afmkfd.xn--p1ai");
    expect(canonicalEmail("\u7530\u4e2d\u305f\u308d\u3046@example.jp")).toBe("\u7530\u4e2d\u305f\u308d\u3046@example.jp");
    expect(canonicalEmail("user7@example.com")).toBe("user7@example.com");
  });

  const refused: Array<[string, string, string]> = [
    ["zero-width space", "admin\u200b@example.com", "ERR_EMAIL_INVISIBLE"],
    ["zero-width joiner in the domain", "admin@exam\u200dple.com", "ERR_EMAIL_INVISIBLE"],
    ["soft hyphen", "ad\u00admin@example.com", "ERR_EMAIL_INVISIBLE"],
    ["right-to-left override", "admin\u202e@example.com", "ERR_EMAIL_INVISIBLE"],
    ["Cyrillic а among Latin", "\u0430dmin@example.com", "ERR_EMAIL_MIXED_SCRIPT"],
    ["Greek ο among Latin", "r\u03bfot@example.com", "ERR_EMAIL_MIXED_SCRIPT"],
    ["Cyrillic е in the domain", "admin@exampl\u0435.com", "ERR_EMAIL_MIXED_SCRIPT"],
    ["the same domain as punycode", "admin@xn--exampl-8of.com", "ERR_EMAIL_MIXED_SCRIPT"],
    ["trailing dot", "admin@example.com.", "ERR_EMAIL_FORMAT"],
    ["empty label", "admin@example..com", "ERR_EMAIL_FORMAT"],
    ["percent in the domain", "admin@exa%41mple.com", "ERR_EMAIL_FORMAT"],
    ["no domain", "admin", "ERR_EMAIL_FORMAT"],
    ["empty", "", "ERR_EMAIL_FORMAT"],
    ["two @", "a@b@example.com", "ERR_EMAIL_FORMAT"],
  ];
  for (const [what, email, code] of refused) {
    test(`refuses ${what} (${code}), as a 400`, () => {
      let err: unknown;
      try {
        canonicalEmail(email);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EmailAddressError);
      expect((err as EmailAddressError).code).toBe(code);
      expect((err as EmailAddressError).status).toBe(400);
    });
  }

  test("with a fallback, a refused address returns it instead of throwing", () => {
    expect(canonicalEmail("\u0430dmin@example.com", "")).toBe("");
    expect(canonicalEmail("Admin@example.com", "")).toBe("admin@example.com");
  });
});
