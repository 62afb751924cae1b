import { describe, expect, test } from "bun:test";
import { exhaustionCode, isLocalExhaustion } from "../../src/gateway/local-exhaustion.ts";

/** A failed fetch() as Deno 2.9 reports it: the OS error is only in the cause's message. */
function denoFetchError(cause: string): TypeError {
  return new TypeError("fetch failed", { cause: new Error(`error sending request for url (http://127.0.0.1:8089/v1/chat/completions): client error (Connect): ${cause}`) });
}

describe("local exhaustion vs upstream failure", () => {
  test("Bun's errno code: EMFILE is local", () => {
    const e = Object.assign(new Error("connect failed"), { code: "EMFILE" });
    expect(isLocalExhaustion(e)).toBe(true);
    expect(exhaustionCode(e)).toBe("EMFILE");
  });

  test("Deno's fetch error: out of descriptors or local ports is local, named by its errno", () => {
    for (const [cause, code] of [
      ["tcp open error: Too many open files (os error 24)", "EMFILE"],
      ["tcp open error: Too many open files in system (os error 23)", "ENFILE"],
      ["tcp connect error: Cannot assign requested address (os error 99)", "EADDRNOTAVAIL"],
      ["tcp open error: No buffer space available (os error 105)", "ENOBUFS"],
    ] as const) {
      expect(isLocalExhaustion(denoFetchError(cause))).toBe(true);
      expect(exhaustionCode(denoFetchError(cause))).toBe(code);
    }
  });

  test("a refused or reset connection, or a bare fetch failure, is the upstream's", () => {
    expect(isLocalExhaustion(denoFetchError("tcp connect error: Connection refused (os error 111)"))).toBe(false);
    expect(isLocalExhaustion(Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" }))).toBe(false);
    expect(isLocalExhaustion(new TypeError("fetch failed"))).toBe(false);
  });
});
