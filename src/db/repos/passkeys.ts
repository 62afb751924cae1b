import type { StrictPool } from "../pool.ts";
import { epochSeconds } from "./users.ts";

/** A `gatehouse_passkey` row. `id` and `public_key` are base64url. */
export interface PasskeyRow {
  id: string;
  user_id: string;
  name: string;
  public_key: string;
  counter: number;
  transports: string | null;
  device_type: string | null;
  backed_up: boolean;
  created_at: number;
  last_used_at: number | null;
}

const COLUMNS = "id, user_id, name, public_key, counter, transports, device_type, backed_up, created_at, last_used_at";

function row(r: PasskeyRow): PasskeyRow {
  return { ...r, counter: Number(r.counter), created_at: Number(r.created_at), last_used_at: r.last_used_at === null ? null : Number(r.last_used_at) };
}

/** WebAuthn credentials (passkeys). */
export class PasskeysRepo {
  constructor(private readonly pool: StrictPool) {}

  insert(p: Omit<PasskeyRow, "created_at" | "last_used_at">): Promise<void> {
    return this.pool.run("passkey.insert", async (c) => {
      await c`insert into gatehouse_passkey (id, user_id, name, public_key, counter, transports, device_type, backed_up, created_at)
              values (${p.id}, ${p.user_id}, ${p.name}, ${p.public_key}, ${p.counter}, ${p.transports}, ${p.device_type}, ${p.backed_up}, ${epochSeconds()})`;
    });
  }

  byId(id: string): Promise<PasskeyRow | null> {
    return this.pool.run("passkey.by_id", async (c) => {
      const rows = await c.unsafe<PasskeyRow[]>(`select ${COLUMNS} from gatehouse_passkey where id = $1`, [id]);
      return rows[0] ? row(rows[0]) : null;
    });
  }

  listByUser(userId: string): Promise<PasskeyRow[]> {
    return this.pool.run("passkey.list", async (c) =>
      (await c.unsafe<PasskeyRow[]>(`select ${COLUMNS} from gatehouse_passkey where user_id = $1 order by created_at, id`, [userId])).map(row));
  }

  count(userId: string): Promise<number> {
    return this.pool.run("passkey.count", async (c) =>
      Number((await c<{ n: string }[]>`select count(*) as n from gatehouse_passkey where user_id = ${userId}`)[0]!.n));
  }

  /**
   * Records a use: the new counter only when it moves forward from `previous` (atomically, so
   * two uses of one assertion cannot both pass), and the backup state. False when it did not.
   */
  recordUse(id: string, previous: number, counter: number, backedUp: boolean): Promise<boolean> {
    return this.pool.run("passkey.use", async (c) =>
      (await c`update gatehouse_passkey set counter = ${counter}, backed_up = ${backedUp}, last_used_at = ${epochSeconds()}
                where id = ${id} and counter = ${previous} returning id`).length === 1);
  }

  rename(userId: string, id: string, name: string): Promise<boolean> {
    return this.pool.run("passkey.rename", async (c) =>
      (await c`update gatehouse_passkey set name = ${name} where id = ${id} and user_id = ${userId} returning id`).length === 1);
  }

  delete(userId: string, id: string): Promise<boolean> {
    return this.pool.run("passkey.delete", async (c) => (await c`delete from gatehouse_passkey where id = ${id} and user_id = ${userId} returning id`).length === 1);
  }

  deleteAll(userId: string): Promise<void> {
    return this.pool.run("passkey.delete_all", async (c) => void (await c`delete from gatehouse_passkey where user_id = ${userId}`));
  }
}
