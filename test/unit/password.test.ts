import { describe, expect, test } from "bun:test";
import { parseOptions } from "@node-rs/argon2";
import vectors from "../fixtures/compat/openwebui-vectors.json" with { type: "json" };
import {
  ARGON2_PARAMS,
  DUMMY_HASH,
  hashPassword,
  hashPasswordOnThisThread,
  needsRehash,
  spendDummyVerification,
  verifyPassword,
  verifyPasswordOnThisThread,
} from "../../src/crypto/password.ts";

// Independent vectors from Debian's python3-bcrypt 3.2.2 / python3-argon2 21.1 (argon2-cffi):
//   bcrypt.hashpw(("gatehouse-" * 8).encode(), b"$2b$04$abcdefghijklmnopqrstuu")       (80 bytes)
//   bcrypt.hashpw(("a" * 71 + "é" + "tail").encode(), b"$2b$04$abcdefghijklmnopqrstuu")
//   bcrypt.hashpw(b"password123", b"$2a$04$abcdefghijklmnopqrstuu")
//   hash_secret(b"password123", b"0123456789abcdef", t=2, m=19456, p=1, type=ID / t=3, m=65536, p=4, type=I)
const LONG_ASCII = "gatehouse-".repeat(8);
const LONG_ASCII_HASH = "$2b$04$abcdefghijklmnopqrstuuMPCcAefsmBe4maFkO24Suz86.JwwkP6";
const SPLIT_UTF8 = `${"a".repeat(71)}étail`;
const SPLIT_UTF8_HASH = "$2b$04$abcdefghijklmnopqrstuuoVx8RufeJl2sf6nnK3ltb8OHjZZZsny";
const BCRYPT_2A = "$2a$04$abcdefghijklmnopqrstuuK7Sjs7rFYArh/ytIZsOeM/z4RV2Fw2i";
const ARGON2ID_WEAK = "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$QsiXxtKuiCjdMPc/fr4G3IAsWreaz0M5T+SSHJdxTu0";
const ARGON2I = "$argon2i$v=19$m=65536,t=3,p=4$MDEyMzQ1Njc4OWFiY2RlZg$p8CPnRUIhgzGDW/rgFG/zbKwByH2yxXvPXazTC6tp9c";

describe("Open WebUI vectors", () => {
  test("bcrypt $2b$ hash of password123 verifies", async () => {
    expect(await verifyPassword("password123", vectors.bcrypt_hash_of_password123)).toBe(true);
    expect(await verifyPassword("password124", vectors.bcrypt_hash_of_password123)).toBe(false);
  });

  test("argon2id hash of password123 verifies", async () => {
    expect(await verifyPassword("password123", vectors.argon2id_hash_of_password123)).toBe(true);
    expect(await verifyPassword("Password123", vectors.argon2id_hash_of_password123)).toBe(false);
  });
});

describe("the on-this-thread flavour (crypto workers)", () => {
  test("verifies the Open WebUI vectors, the bcrypt truncation cases and refuses what the async flavour refuses", async () => {
    expect(await verifyPasswordOnThisThread("password123", vectors.argon2id_hash_of_password123)).toBe(true);
    expect(await verifyPasswordOnThisThread("Password123", vectors.argon2id_hash_of_password123)).toBe(false);
    expect(await verifyPasswordOnThisThread("password123", vectors.bcrypt_hash_of_password123)).toBe(true);
    expect(await verifyPasswordOnThisThread("password124", vectors.bcrypt_hash_of_password123)).toBe(false);
    expect(await verifyPasswordOnThisThread(`${LONG_ASCII}extra`, LONG_ASCII_HASH)).toBe(true);
    expect(await verifyPasswordOnThisThread(SPLIT_UTF8, SPLIT_UTF8_HASH)).toBe(true);
    expect(await verifyPasswordOnThisThread("password123", ARGON2I)).toBe(false);
    expect(await verifyPasswordOnThisThread("password123", "$argon2id$garbage")).toBe(false);
  });

  test("its hashes and the async flavour's verify each other, with the same parameters", async () => {
    const here = hashPasswordOnThisThread("correct horse");
    expect(parseOptions(here)).toMatchObject({ memoryCost: ARGON2_PARAMS.memoryCost, timeCost: ARGON2_PARAMS.timeCost, parallelism: ARGON2_PARAMS.parallelism });
    expect(await verifyPassword("correct horse", here)).toBe(true);
    expect(await verifyPasswordOnThisThread("correct horse", await hashPassword("correct horse"))).toBe(true);
    expect(await verifyPasswordOnThisThread("correct horse ", here)).toBe(false);
  });
});

describe("hashPassword", () => {
  test("makes argon2id with argon2-cffi's parameters and a 16-byte salt", async () => {
    const hash = await hashPassword("correct horse");
    expect(hash.startsWith("$argon2id$v=19$m=65536,t=3,p=4$")).toBe(true);
    const o = parseOptions(hash);
    expect([o.memoryCost, o.timeCost, o.parallelism, o.outputLen, o.saltLen]).toEqual([
      ARGON2_PARAMS.memoryCost, ARGON2_PARAMS.timeCost, ARGON2_PARAMS.parallelism, 32, 16,
    ]);
    expect(await verifyPassword("correct horse", hash)).toBe(true);
    expect(await verifyPassword("correct horse ", hash)).toBe(false);
    expect(needsRehash(hash)).toBe(false);
  });

  test("salts every hash", async () => {
    const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
    expect(a).not.toBe(b);
  });
});

describe("bcrypt", () => {
  test("only the first 72 bytes count, as in Python bcrypt", async () => {
    expect(await verifyPassword(LONG_ASCII, LONG_ASCII_HASH)).toBe(true);
    expect(await verifyPassword(LONG_ASCII.slice(0, 72), LONG_ASCII_HASH)).toBe(true);
    expect(await verifyPassword(`${LONG_ASCII.slice(0, 72)}anything`, LONG_ASCII_HASH)).toBe(true);
    expect(await verifyPassword(LONG_ASCII.slice(0, 71), LONG_ASCII_HASH)).toBe(false);
  });

  test("truncation is by UTF-8 bytes, even inside a character", async () => {
    expect(await verifyPassword(SPLIT_UTF8, SPLIT_UTF8_HASH)).toBe(true);
    // "é" and "è" share their first UTF-8 byte, the 72nd; the second byte is cut off.
    expect(await verifyPassword(`${"a".repeat(71)}è`, SPLIT_UTF8_HASH)).toBe(true);
    expect(await verifyPassword("a".repeat(71), SPLIT_UTF8_HASH)).toBe(false);
  });

  test("$2a$ and $2y$ verify too", async () => {
    expect(await verifyPassword("password123", BCRYPT_2A)).toBe(true);
    expect(await verifyPassword(LONG_ASCII, LONG_ASCII_HASH.replace("$2b$", "$2y$"))).toBe(true);
    expect(await verifyPassword("password12", BCRYPT_2A)).toBe(false);
  });
});

describe("needsRehash", () => {
  test("true for bcrypt", () => {
    expect(needsRehash(vectors.bcrypt_hash_of_password123)).toBe(true);
  });

  test("false for the current argon2id parameters", () => {
    expect(needsRehash(vectors.argon2id_hash_of_password123)).toBe(false);
    expect(needsRehash(DUMMY_HASH)).toBe(false);
  });

  test("true for weaker argon2id, which still verifies", async () => {
    expect(await verifyPassword("password123", ARGON2ID_WEAK)).toBe(true);
    expect(needsRehash(ARGON2ID_WEAK)).toBe(true);
  });

  test("true for other argon2 variants and garbage", () => {
    expect(needsRehash(ARGON2I)).toBe(true);
    expect(needsRehash("")).toBe(true);
    expect(needsRehash("$argon2id$v=19$m=65536,t=3,p=4$bad")).toBe(true);
  });
});

describe("unreadable hashes verify as false, never throw", () => {
  const cases: Array<[string, unknown]> = [
    ["empty", ""],
    ["plain text", "password123"],
    ["argon2i (not accepted)", ARGON2I],
    ["truncated argon2id", vectors.argon2id_hash_of_password123.slice(0, 40)],
    ["argon2id with bad base64", "$argon2id$v=19$m=65536,t=3,p=4$!!!!$!!!!"],
    ["argon2id beyond the memory bound", "$argon2id$v=19$m=4194304,t=3,p=4$MDEyMzQ1Njc4OWFiY2RlZg$Pv38Z9mpgLGKJqs7h8D2sm34VumfVlVokrfxQ9V6/6A"],
    ["truncated bcrypt", vectors.bcrypt_hash_of_password123.slice(0, 50)],
    ["bcrypt cost beyond the bound", vectors.bcrypt_hash_of_password123.replace("$12$", "$31$")],
    ["bcrypt cost 03", vectors.bcrypt_hash_of_password123.replace("$12$", "$03$")],
    ["$2x$ revision", vectors.bcrypt_hash_of_password123.replace("$2b$", "$2x$")],
    ["scrypt-like", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E"],
    ["not a string", 42],
  ];
  for (const [name, hash] of cases) {
    test(name, async () => {
      expect(await verifyPassword("password123", hash as string)).toBe(false);
    });
  }

  test("a non-string password", async () => {
    expect(await verifyPassword(undefined as unknown as string, vectors.argon2id_hash_of_password123)).toBe(false);
  });
});

test("DUMMY_HASH is a current-parameter argon2id hash that matches nothing ordinary", async () => {
  expect(DUMMY_HASH.startsWith("$argon2id$v=19$m=65536,t=3,p=4$")).toBe(true);
  expect(await verifyPassword("", DUMMY_HASH)).toBe(false);
  expect(await spendDummyVerification("password123")).toBe(false);
});
