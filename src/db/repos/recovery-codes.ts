import type { StrictPool } from "../pool.ts";
import { epochSeconds } from "./users.ts";

/** Hashed single-use recovery codes. */
export class RecoveryCodesRepo {
  constructor(private readonly pool: StrictPool) {}

  /** Replaces every code of the user with `hashes` (one transaction). */
  replace(userId: string, hashes: readonly string[]): Promise<void> {
    const now = epochSeconds();
    return this.pool.transaction("mfa.recovery.replace", async (c) => {
      await c`delete from gatehouse_mfa_recovery_code where user_id = ${userId}`;
      await c`insert into gatehouse_mfa_recovery_code (user_id, code_hash, created_at)
              select ${userId}, h, ${now} from unnest(${hashes as string[]}::text[]) as h`;
    });
  }

  /** Marks the code used, atomically: of two concurrent uses exactly one gets true. */
  consume(userId: string, hash: string): Promise<boolean> {
    return this.pool.run("mfa.recovery.consume", async (c) => {
      const rows = await c`update gatehouse_mfa_recovery_code set used_at = ${epochSeconds()}
                            where user_id = ${userId} and code_hash = ${hash} and used_at is null returning user_id`;
      return rows.length === 1;
    });
  }

  /** How many unused codes the user has left. */
  remaining(userId: string): Promise<number> {
    return this.pool.run("mfa.recovery.remaining", async (c) =>
      Number((await c<{ n: string }[]>`select count(*) as n from gatehouse_mfa_recovery_code where user_id = ${userId} and used_at is null`)[0]!.n));
  }

  deleteAll(userId: string): Promise<void> {
    return this.pool.run("mfa.recovery.delete", async (c) => void (await c`delete from gatehouse_mfa_recovery_code where user_id = ${userId}`));
  }
}
