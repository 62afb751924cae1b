import type { StrictPool } from "../pool.ts";
import { epochSeconds } from "./users.ts";

/** A `gatehouse_mfa_totp` row (the secret stays encrypted here). */
export interface TotpRow {
  user_id: string;
  secret_enc: string;
  created_at: number;
  confirmed_at: number | null;
  last_step: number | null;
}

/** TOTP factors: one per user, pending until confirmed. */
export class TotpRepo {
  constructor(private readonly pool: StrictPool) {}

  byUser(userId: string): Promise<TotpRow | null> {
    return this.pool.run("mfa.totp.get", async (c) => {
      const rows = await c<TotpRow[]>`select user_id, secret_enc, created_at, confirmed_at, last_step from gatehouse_mfa_totp where user_id = ${userId}`;
      return rows[0] ?? null;
    });
  }

  /** Stores a new, unconfirmed secret; an active factor is never replaced (returns false). */
  putPending(userId: string, secretEnc: string): Promise<boolean> {
    return this.pool.run("mfa.totp.put", async (c) => {
      const rows = await c`insert into gatehouse_mfa_totp (user_id, secret_enc, created_at)
                           values (${userId}, ${secretEnc}, ${epochSeconds()})
                           on conflict (user_id) do update set secret_enc = excluded.secret_enc, created_at = excluded.created_at, last_step = null
                           where gatehouse_mfa_totp.confirmed_at is null
                           returning user_id`;
      return rows.length === 1;
    });
  }

  /**
   * Records `step` as used, atomically and only when it is later than every step used
   * before: true means this code was not used yet (on any instance).
   */
  useStep(userId: string, step: number): Promise<boolean> {
    return this.pool.run("mfa.totp.use_step", async (c) => {
      const rows = await c`update gatehouse_mfa_totp set last_step = ${step}
                            where user_id = ${userId} and (last_step is null or last_step < ${step}) returning user_id`;
      return rows.length === 1;
    });
  }

  /** Marks the pending factor active; false when there was none pending. */
  confirm(userId: string): Promise<boolean> {
    return this.pool.run("mfa.totp.confirm", async (c) => {
      const rows = await c`update gatehouse_mfa_totp set confirmed_at = ${epochSeconds()} where user_id = ${userId} and confirmed_at is null returning user_id`;
      return rows.length === 1;
    });
  }

  delete(userId: string): Promise<void> {
    return this.pool.run("mfa.totp.delete", async (c) => void (await c`delete from gatehouse_mfa_totp where user_id = ${userId}`));
  }

  /** Every row, for re-encryption under a new key. */
  all(): Promise<Array<Pick<TotpRow, "user_id" | "secret_enc">>> {
    return this.pool.run("mfa.totp.all", async (c) => c<Array<Pick<TotpRow, "user_id" | "secret_enc">>>`select user_id, secret_enc from gatehouse_mfa_totp`);
  }

  /** Replaces a secret's ciphertext when it still is `before` (key rotation). */
  reencrypt(userId: string, before: string, after: string): Promise<boolean> {
    return this.pool.run("mfa.totp.reencrypt", async (c) =>
      (await c`update gatehouse_mfa_totp set secret_enc = ${after} where user_id = ${userId} and secret_enc = ${before} returning user_id`).length === 1);
  }
}
