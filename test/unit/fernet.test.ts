import { describe, expect, test } from "bun:test";
import vectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import generate from "../fixtures/compat/fernet-spec/generate.json" with { type: "json" };
import verify from "../fixtures/compat/fernet-spec/verify.json" with { type: "json" };
import invalid from "../fixtures/compat/fernet-spec/invalid.json" with { type: "json" };
import {
  decodeBase64Url,
  encodeBase64Url,
  portableDecodeBase64Url,
  portableEncodeBase64Url,
} from "../../src/crypto/base64url.ts";
import { FernetError } from "../../src/crypto/errors.ts";
import { deriveFernetKey, fernetDecrypt, fernetEncrypt } from "../../src/crypto/fernet.ts";

const unix = (iso: string) => Date.parse(iso) / 1000;
const OWUI_SECRET = "test-webui-secret-key";
const KEY = vectors.fernet_key_from_secret;

async function refusal(p: Promise<unknown>): Promise<FernetError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FernetError);
    return e as FernetError;
  }
  throw new Error("expected a FernetError, but the promise resolved");
}

describe("Fernet spec vectors", () => {
  for (const [i, v] of generate.entries()) {
    test(`generate #${i} (${JSON.stringify(v.src)}) reproduces the token`, async () => {
      const token = await fernetEncrypt(v.secret, v.src, { now: unix(v.now), iv: Uint8Array.from(v.iv) });
      expect(token).toBe(v.token);
    });
  }

  for (const [i, v] of verify.entries()) {
    test(`verify #${i} decrypts within ttl`, async () => {
      expect(await fernetDecrypt(v.secret, v.token, { ttlSeconds: v.ttl_sec, now: unix(v.now) })).toBe(v.src);
    });
  }

  for (const v of invalid) {
    test(`invalid: ${v.desc}`, async () => {
      const e = await refusal(fernetDecrypt(v.secret, v.token, { ttlSeconds: v.ttl_sec, now: unix(v.now) }));
      expect(e.code).toBe(v.desc === "expired TTL" ? "ERR_FERNET_EXPIRED" : "ERR_FERNET_INVALID");
    });
  }
});

describe("Open WebUI vectors", () => {
  test("fernet_key_from_secret = base64url(sha256(WEBUI_SECRET_KEY)) with padding", async () => {
    expect(await deriveFernetKey(OWUI_SECRET)).toBe(KEY);
  });

  test("a 44-character source is used verbatim", async () => {
    expect(await deriveFernetKey(vectors.fernet_key_44char_passthrough)).toBe(vectors.fernet_key_44char_passthrough);
    // Python counts code points: 43 ASCII + one astral char is 44 for Python, 45 UTF-16 units.
    const astral = `${"a".repeat(43)}😀`;
    expect(await deriveFernetKey(astral)).toBe(astral);
    expect(await deriveFernetKey("a".repeat(45))).not.toBe("a".repeat(45));
  });

  test("fernet_token_fixed decrypts to fernet_plaintext", async () => {
    expect(await fernetDecrypt(KEY, vectors.fernet_token_fixed)).toBe(vectors.fernet_plaintext);
  });

  test("fernet_token_fixed is reproduced byte for byte (now=1767225600, zero IV)", async () => {
    const token = await fernetEncrypt(KEY, vectors.fernet_plaintext, { now: 1767225600, iv: new Uint8Array(16) });
    expect(token).toBe(vectors.fernet_token_fixed);
  });
});

describe("fernetEncrypt / fernetDecrypt", () => {
  test("round trips empty, unicode and 2 KB plaintexts with random IVs", async () => {
    for (const text of ["", "Zoë 😀 \u0000", "x".repeat(2048)]) {
      const a = await fernetEncrypt(KEY, text);
      const b = await fernetEncrypt(KEY, text);
      expect(a).not.toBe(b);
      expect(a).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
      expect(await fernetDecrypt(KEY, a)).toBe(text);
    }
  });

  test("flipping any bit of any byte is refused", async () => {
    const token = await fernetEncrypt(KEY, "hello", { now: 1767225600 });
    const bytes = decodeBase64Url(token, true);
    if (bytes === null) throw new Error("token did not decode");
    expect(bytes.length).toBe(73); // version + timestamp + IV + one block + MAC
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const tampered = bytes.slice();
        tampered[i] = (tampered[i] ?? 0) ^ bit;
        const e = await refusal(fernetDecrypt(KEY, encodeBase64Url(tampered, true)));
        expect(e.code).toBe("ERR_FERNET_INVALID");
      }
    }
  });

  test("changing any character of the text is refused", async () => {
    const token = await fernetEncrypt(KEY, "hello", { now: 1767225600 });
    for (let i = 0; i < token.length; i++) {
      const c = token[i] === "A" ? "B" : "A";
      await refusal(fernetDecrypt(KEY, token.slice(0, i) + c + token.slice(i + 1)));
    }
  });

  test("truncated, unpadded, non-URL-safe and non-string tokens are refused", async () => {
    const token = await fernetEncrypt(KEY, "hello");
    await refusal(fernetDecrypt(KEY, token.slice(0, -4)));
    await refusal(fernetDecrypt(KEY, token.replace(/=+$/, "")));
    await refusal(fernetDecrypt(KEY, token.replace(/-/g, "+").replace(/_/g, "/") + " "));
    await refusal(fernetDecrypt(KEY, ""));
    await refusal(fernetDecrypt(KEY, 42 as unknown as string));
  });

  test("a token under another key is refused, and the message names neither key nor token", async () => {
    const token = await fernetEncrypt(KEY, "secret stuff");
    const other = await deriveFernetKey("another secret");
    const e = await refusal(fernetDecrypt(other, token));
    expect(e.code).toBe("ERR_FERNET_INVALID");
    expect(e.message).not.toContain(token);
    expect(e.message).not.toContain(other);
    expect(e.message).not.toContain("secret stuff");
  });

  test("an unusable key is ERR_FERNET_KEY", async () => {
    for (const bad of ["short", "%".repeat(44), "A".repeat(44), `${"A".repeat(42)}==`]) {
      expect((await refusal(fernetEncrypt(bad, "x"))).code).toBe("ERR_FERNET_KEY");
      expect((await refusal(fernetDecrypt(bad, vectors.fernet_token_fixed))).code).toBe("ERR_FERNET_KEY");
    }
  });

  test("ttl: valid up to ts+ttl, expired after; up to 60 s of future skew; none without ttl", async () => {
    const token = await fernetEncrypt(KEY, "t", { now: 1000 });
    expect(await fernetDecrypt(KEY, token, { ttlSeconds: 60, now: 1060 })).toBe("t");
    expect((await refusal(fernetDecrypt(KEY, token, { ttlSeconds: 60, now: 1061 }))).code).toBe("ERR_FERNET_EXPIRED");
    expect(await fernetDecrypt(KEY, token, { ttlSeconds: 60, now: 940 })).toBe("t");
    expect((await refusal(fernetDecrypt(KEY, token, { ttlSeconds: 60, now: 939 }))).code).toBe("ERR_FERNET_INVALID");
    expect(await fernetDecrypt(KEY, token, { now: 10 ** 9 })).toBe("t");
    expect(await fernetDecrypt(KEY, token, { now: 0 })).toBe("t");
  });

  test("a forged token (valid layout, wrong MAC) is never reported as expired", async () => {
    const token = await fernetEncrypt(await deriveFernetKey("attacker"), "t", { now: 1000 });
    const e = await refusal(fernetDecrypt(KEY, token, { ttlSeconds: 60, now: 5000 }));
    expect(e.code).toBe("ERR_FERNET_INVALID");
  });

  test("a bad IV length is a TypeError", async () => {
    await expect(fernetEncrypt(KEY, "x", { iv: new Uint8Array(8) })).rejects.toThrow(TypeError);
  });
});

describe("base64url codec (Fernet padded, JWS unpadded)", () => {
  test("native and portable codecs agree with each other and round trip, for every length mod 3", () => {
    for (let n = 0; n < 70; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      for (const pad of [false, true]) {
        const text = encodeBase64Url(bytes, pad);
        expect(portableEncodeBase64Url(bytes, pad)).toBe(text);
        expect(text).toMatch(pad ? /^[A-Za-z0-9_-]*={0,2}$/ : /^[A-Za-z0-9_-]*$/);
        expect(decodeBase64Url(text, pad)).toEqual(bytes);
        expect(portableDecodeBase64Url(text, pad)).toEqual(bytes);
      }
    }
  });

  test("both refuse whitespace, standard-alphabet characters, wrong padding and non-zero spare bits", () => {
    const refused: [string, boolean][] = [
      ["aGk=", false], // padding where none is allowed
      ["aGk", true], // missing padding
      ["aG==", true], // spare bits set (canonical is "aA==")
      ["aGl", false], // spare bits set (canonical is "aGk")
      ["a", false], // impossible length
      ["aGk =", true],
      ["a+/k", false],
      [" aGk", false],
      ["aGk\n", false],
      ["aGk==", true],
    ];
    for (const [text, padded] of refused) {
      expect(decodeBase64Url(text, padded)).toBeNull();
      expect(portableDecodeBase64Url(text, padded)).toBeNull();
    }
    expect(decodeBase64Url("aGk=", true)).toEqual(new TextEncoder().encode("hi"));
    expect(portableDecodeBase64Url("aGk", false)).toEqual(new TextEncoder().encode("hi"));
  });
});
