import { createHmac } from "node:crypto";

/**
 * RFC 6238 (SHA-1, 6 digits, 30 s) written out independently of the server's library, so
 * the tests check the server against the standard rather than against itself.
 */
export function totpAtStep(secretBase32: string, step: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secretBase32.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const off = mac[mac.length - 1]! & 0xf;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}

/** The current 30-second step. */
export function currentStep(nowMs = Date.now()): number {
  return Math.floor(nowMs / 30_000);
}

/**
 * Waits (at most ~3 s) until at least 3 s remain in the current step S, then returns S: a code
 * of step S-1 used at once is still inside the server's ±1 window, and codes of S and S+1 stay
 * valid for at least the next 30 s.
 */
export async function freshStep(): Promise<number> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 3000) await Bun.sleep(left + 50);
  return currentStep();
}
