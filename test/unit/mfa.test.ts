import { describe, expect, test } from "bun:test";
import { matchingStep, newTotpSecret, totpUri } from "../../src/mfa/totp.ts";
import { newRecoveryCodes, normaliseRecoveryCode } from "../../src/mfa/recovery-codes.ts";
import { MfaKeys } from "../../src/mfa/mfa-keys.ts";
import { SECRET_SHAPES } from "../helpers/log-leaks.ts";
import { totpAtStep } from "../helpers/totp.ts";

// RFC 6238 appendix B's SHA-1 seed "12345678901234567890", base32.
const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

describe("TOTP (RFC 6238, SHA-1, 6 digits, 30 s)", () => {
  test("the RFC's vectors (last 6 digits) at T=59 and T=1111111109, from the server and the test's own implementation", () => {
    expect(totpAtStep(RFC_SECRET, 1)).toBe("287082");
    expect(totpAtStep(RFC_SECRET, Math.floor(1111111109 / 30))).toBe("081804");
    expect(matchingStep(RFC_SECRET, "287082", 59_000)).toBe(1);
    expect(matchingStep(RFC_SECRET, "081804", 1111111109_000)).toBe(Math.floor(1111111109 / 30));
  });

  test("accepted within ±1 step only; malformed codes are refused without checking", () => {
    expect(matchingStep(RFC_SECRET, "287082", 89_000)).toBe(1); // one step later
    expect(matchingStep(RFC_SECRET, "287082", 0)).toBe(1); // one step earlier
    expect(matchingStep(RFC_SECRET, "287082", 95_000)).toBeNull(); // two steps later
    for (const bad of ["", "28708", "2870820", "28708a", " 287082"]) expect(matchingStep(RFC_SECRET, bad, 59_000)).toBeNull();
  });

  test("secrets are 160 bits of base32; the URI names issuer, account, SHA1, 6 digits, 30 s", () => {
    const s = newTotpSecret();
    expect(s).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(s);
    const uri = new URL(totpUri(s, "ann@example.com", "gatehouse.example"));
    expect(uri.protocol).toBe("otpauth:");
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({ secret: s, issuer: "gatehouse.example", algorithm: "SHA1", digits: "6", period: "30" });
  });
});

describe("recovery codes", () => {
  test("ten distinct codes of 60 bits, normalised however they are typed", () => {
    const codes = newRecoveryCodes();
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
    expect(normaliseRecoveryCode("k7qd-2mxa-pl4t")).toBe("K7QD2MXAPL4T");
    expect(normaliseRecoveryCode(" K7QD 2MXA PL4T ")).toBe("K7QD2MXAPL4T");
    expect(normaliseRecoveryCode("K7QD-2MXA-PL4")).toBeNull();
    expect(normaliseRecoveryCode("K7QD-2MXA-PL40")).toBeNull();
  });
});

describe("MfaKeys", () => {
  test("secrets round-trip; a previous key (or old WEBUI_SECRET_KEY) still opens them; recovery hashes do not depend on the Fernet key", async () => {
    const old = new MfaKeys(null, "old-secret-key");
    const sealed = await old.seal("JBSWY3DPEHPK3PXP");
    expect(sealed).not.toContain("JBSWY3DPEHPK3PXP");
    expect(await old.open(sealed)).toBe("JBSWY3DPEHPK3PXP");
    await expect(new MfaKeys("new-passphrase", "old-secret-key").open(sealed)).rejects.toThrow();
    expect(await new MfaKeys("new-passphrase", "old-secret-key", ["old-secret-key"]).open(sealed)).toBe("JBSWY3DPEHPK3PXP");
    expect(await new MfaKeys("other", "k").hashRecoveryCode("AAAA")).toBe(await new MfaKeys(null, "k").hashRecoveryCode("AAAA"));
    expect(await new MfaKeys(null, "k").hashRecoveryCode("AAAA")).not.toBe(await new MfaKeys(null, "k2").hashRecoveryCode("AAAA"));
  });
});

describe("the suite's log guard knows second-factor secrets", () => {
  const shapes = (line: string) => SECRET_SHAPES.filter((s) => s.re.test(line)).map((s) => s.name);
  test("a TOTP secret, an otpauth URI and a recovery code are caught; ordinary lines are not", () => {
    expect(shapes(`{"msg":"x","k":"${newTotpSecret()}"}`)).toContain("TOTP secret");
    expect(shapes(`{"msg":"otpauth://totp/a?secret=x"}`)).toContain("otpauth URI");
    expect(shapes(`{"msg":"used ${newRecoveryCodes()[0]}"}`)).toContain("recovery code");
    expect(shapes(`{"mfa_token":"abc"}`)).toContain("unredacted secret field");
    expect(shapes(`{"msg":"auth mfa success","userId":"0b7c2f9e-8a1d-4c3b-9e2f-7a6b5c4d3e2f","action":"recovery_code_used"}`)).toEqual([]);
  });
});
