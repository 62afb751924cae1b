import { freePort } from "../../test/harness/services.ts";

/** A port P such that P … P+n-1 are free now (checked by binding each). */
export async function freeConsecutivePorts(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await freePort();
    if (p + n - 1 > 65535) continue;
    let ok = true;
    for (let i = 1; i < n && ok; i++) {
      try {
        Bun.listen({ hostname: "127.0.0.1", port: p + i, socket: { data() {} } }).stop(true);
      } catch {
        ok = false;
      }
    }
    if (ok) return p;
  }
  throw new Error(`no ${n} consecutive free ports`);
}
