import type { StrictPool } from "../db/pool.ts";
import { fernetDecrypt, fernetEncrypt } from "../crypto/fernet.ts";

/** Progress of one rotation run. */
export interface RotationReport {
  /** Rows read. */
  scanned: number;
  /** Rows re-encrypted from the old key to the new one by this run. */
  rotated: number;
  /** Rows already under the new key (rotated by an earlier run, or written by a server with the new key). */
  alreadyNew: number;
  /** Rows that decrypt with neither key: reported by id and left untouched. */
  undecryptable: string[];
  /** Rows that changed between read and write and were read again. */
  retried: number;
  /** Rows still changing after every attempt: left under their old key for the next run. */
  contended: string[];
  /** True when `limit` stopped the run before the end of the table. */
  stoppedAtLimit: boolean;
}

/** Options of {@link rotateOAuthEncryptionKey}. Keys are Fernet keys (already derived). */
export interface RotationOptions {
  /** The old keys, tried in order. */
  fromKeys: readonly string[];
  toKey: string;
  batchSize: number;
  /** Stop after re-encrypting this many rows (the rest waits for the next run). */
  limit?: number;
  /** Called after each batch, for progress output. */
  onBatch?: (r: RotationReport) => void;
  /** Test hook: runs between reading a batch and writing it (to change rows underneath). */
  beforeWrite?: (ids: readonly string[]) => Promise<void>;
}

type Row = { id: string; token: string };

/** Reads of a row that keeps changing underneath before it is left for the next run. */
const MAX_ATTEMPTS = 5;

async function decrypts(key: string, token: string): Promise<string | null> {
  try {
    return await fernetDecrypt(key, token);
  } catch {
    return null;
  }
}

/**
 * Re-encrypts `oauth_session.token` from any of `fromKeys` to `toKey`, in id order, `batchSize` rows
 * per read and one statement per write. Resumable by construction: a row that already
 * decrypts with `toKey` is skipped, so a rerun after an interruption (or a `limit`) finishes
 * the job. Nothing is lost: each write is a compare-and-swap on the ciphertext read, so a
 * row a running server changed meanwhile is read again instead of overwritten; rows that
 * decrypt with neither key are left as they are and reported.
 */
export async function rotateOAuthEncryptionKey(pool: StrictPool, o: RotationOptions): Promise<RotationReport> {
  if (o.fromKeys.includes(o.toKey)) throw new Error("the new key is also listed as an old key");
  const report: RotationReport = { scanned: 0, rotated: 0, alreadyNew: 0, undecryptable: [], retried: 0, contended: [], stoppedAtLimit: false };
  let after = "";
  for (;;) {
    const batch = await pool.run("rotation.read", async (c) =>
      c<Row[]>`select id, token from oauth_session where id > ${after} order by id limit ${o.batchSize}`);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.id;
    report.scanned += batch.length;
    let pending: Row[] = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === MAX_ATTEMPTS) {
        report.contended.push(...pending.map((r) => r.id));
        break;
      }
      const updates: Array<{ id: string; old: string; next: string }> = [];
      for (const row of pending) {
        if ((await decrypts(o.toKey, row.token)) !== null) {
          report.alreadyNew++;
          continue;
        }
        let plain: string | null = null;
        for (const key of o.fromKeys) if ((plain = await decrypts(key, row.token)) !== null) break;
        if (plain === null) {
          report.undecryptable.push(row.id);
          continue;
        }
        if (o.limit !== undefined && report.rotated + updates.length >= o.limit) {
          report.stoppedAtLimit = true;
          break;
        }
        updates.push({ id: row.id, old: row.token, next: await fernetEncrypt(o.toKey, plain) });
      }
      await o.beforeWrite?.(updates.map((u) => u.id));
      const written = updates.length === 0 ? [] : await pool.run("rotation.write", async (c) =>
        c<{ id: string }[]>`
          update oauth_session as o set token = v.next, updated_at = ${Math.floor(Date.now() / 1000)}
            from jsonb_to_recordset(${JSON.stringify(updates)}::text::jsonb) as v(id text, old text, next text)
           where o.id = v.id and o.token = v.old
          returning o.id`);
      report.rotated += written.length;
      const done = new Set(written.map((w) => w.id));
      const changed = updates.filter((u) => !done.has(u.id)).map((u) => u.id);
      if (changed.length === 0) break;
      // Changed underneath (a refresh by a running server, or deleted): read again and decide again.
      report.retried += changed.length;
      pending = await pool.run("rotation.reread", async (c) => c<Row[]>`select id, token from oauth_session where id = any(${changed})`);
    }
    o.onBatch?.(report);
    if (report.stoppedAtLimit) break;
  }
  return report;
}
