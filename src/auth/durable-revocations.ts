import { BoundedMap } from "../cache/bounded-map.ts";
import type { RevocationBatch, RevocationsRepo, TokenRevocation, UserRevocation } from "../db/repos/revocations.ts";
import type { Logger } from "../observability/logger.ts";

/** The claims the durable record looks at (`jti` is the token id: a jti, or a legacy token's digest). */
export interface DurableClaims {
  id: string;
  jti?: string;
  iat?: number;
}

/** The part of {@link RevocationsRepo} the replica uses. */
export type RevocationRecord = Pick<RevocationsRepo, "revokeToken" | "revokeUser" | "loadLive" | "changedSince" | "lookup">;

const TOKEN_CAPACITY = 200_000;
const USER_CAPACITY = 100_000;
/** Answers "not revoked" learned from the table; positives learned later override them. */
const MISS_TTL_MS = 5 * 60_000;
/** Re-read this much before the last cursor: a row committed late must not be skipped. */
const POLL_OVERLAP_MS = 3_000;

type UserTimes = Pick<UserRevocation, "revokedAt" | "keysRevokedAt">;

/** Called when a revocation is learned from the table (not from this instance's own writes). */
export type DurableChangeListener = (e: { userId?: string; jti?: string }) => void;

/**
 * This instance's copy of the durable revocation record (Postgres): loaded whole at boot,
 * kept current by this instance's writes, peers' announcements and — while the shared store
 * is unreachable — a poll of what changed. It is never cleared by a store reset, so a Redis
 * that lost its data cannot bring a revoked token back. When the whole record did not fit (or
 * could not be loaded), a check the copy cannot answer asks the table, one query per key
 * at a time, and remembers the "not revoked" answers for a while.
 */
export class DurableRevocations {
  readonly #tokens = new BoundedMap<string, number | null>(TOKEN_CAPACITY);
  readonly #users = new BoundedMap<string, UserTimes>(USER_CAPACITY);
  readonly #misses = new BoundedMap<string, true>(100_000, MISS_TTL_MS);
  readonly #inflight = new Map<string, Promise<void>>();
  #complete = false;
  #cursorMs: number | null = null;
  #poll: ReturnType<typeof setInterval> | null = null;
  #polling = false;

  constructor(
    private readonly record: RevocationRecord,
    private readonly log: Logger,
    private readonly onChange: DurableChangeListener,
    private readonly pollIntervalMs = 500,
  ) {}

  /** True while every revocation in the table is in this copy (no lookups needed). */
  get complete(): boolean {
    return this.#complete;
  }

  /** Loads the whole record. Never throws: without it, checks fall back to lookups. */
  async load(): Promise<void> {
    try {
      const batch = await this.record.loadLive(TOKEN_CAPACITY / 2);
      this.#apply(batch, false);
      this.#complete = batch.tokens.length < TOKEN_CAPACITY / 2 && batch.users.length < TOKEN_CAPACITY / 2;
      this.log.info({ tokens: batch.tokens.length, users: batch.users.length, complete: this.#complete }, "revocations loaded from the database");
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "could not load revocations from the database; checking it per token");
    }
  }

  /** true (revoked), false (certainly not, as far as the record goes), undefined (ask {@link lookup}). */
  verdict(claims: DurableClaims): boolean | undefined {
    if (claims.jti !== undefined && this.#tokens.get(claims.jti) !== undefined) return true;
    const user = this.#users.get(claims.id);
    if (user?.revokedAt != null && revokesIat(user.revokedAt, claims.iat)) return true;
    if (this.#complete) return false;
    const tokenKnown = claims.jti === undefined || this.#misses.get(`t:${claims.jti}`) !== undefined;
    const userKnown = user !== undefined || this.#misses.get(`u:${claims.id}`) !== undefined;
    return tokenKnown && userKnown ? false : undefined;
  }

  /**
   * Asks the table what the copy cannot answer (concurrent asks for one key share a query).
   * @returns undefined when the database cannot answer.
   */
  async lookup(claims: DurableClaims): Promise<boolean | undefined> {
    const known = this.verdict(claims);
    if (known !== undefined) return known;
    const key = `${claims.jti ?? ""}\u0000${claims.id}`;
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#fetch(claims.jti ?? null, claims.id).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    try {
      await pending;
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "revocation lookup in the database failed");
      return undefined;
    }
    return this.verdict(claims);
  }

  /** True when an API key created at `createdAt` predates the user's key revocation. */
  async apiKeyRevoked(userId: string, createdAt: number): Promise<boolean> {
    let user = this.#users.get(userId);
    if (user === undefined && !this.#complete && this.#misses.get(`u:${userId}`) === undefined) {
      await this.lookup({ id: userId });
      user = this.#users.get(userId);
    }
    return user?.keysRevokedAt != null && createdAt <= user.keysRevokedAt;
  }

  /** Same as {@link apiKeyRevoked} without I/O; undefined when only the table can tell. */
  apiKeyRevokedLocally(userId: string, createdAt: number): boolean | undefined {
    const user = this.#users.get(userId);
    if (user === undefined && !this.#complete && this.#misses.get(`u:${userId}`) === undefined) return undefined;
    return user?.keysRevokedAt != null && createdAt <= user.keysRevokedAt;
  }

  /** The user's token revocation time this copy knows (null: none known). */
  userRevokedAt(userId: string): number | null {
    return this.#users.get(userId)?.revokedAt ?? null;
  }

  /** Every revocation in this copy (for re-seeding a store that lost its data). */
  *entries(): IterableIterator<{ tokenId: string; expiresAt: number | null } | { userId: string; revokedAt: number }> {
    for (const [tokenId, expiresAt] of this.#tokens.entries()) yield { tokenId, expiresAt };
    for (const [userId, t] of this.#users.entries()) if (t.revokedAt !== null) yield { userId, revokedAt: t.revokedAt };
  }

  /** Writes a token revocation to the table (first), then to this copy; returns its expiry. */
  async revokeToken(tokenId: string, userId: string | null, exp: number | null): Promise<number | null> {
    const expiresAt = await this.record.revokeToken(tokenId, userId, exp);
    this.applyToken({ tokenId, expiresAt });
    return expiresAt;
  }

  /** Writes a per-user revocation to the table (first), then to this copy; returns the resulting times. */
  async revokeUser(userId: string, tokensAt: number | null, keysAt: number | null): Promise<UserRevocation> {
    const times = await this.record.revokeUser(userId, tokensAt, keysAt);
    this.applyUser(times);
    return times;
  }

  /** Records a token revocation learned elsewhere; true when it was news. */
  applyToken(t: TokenRevocation): boolean {
    const known = this.#tokens.get(t.tokenId);
    if (known !== undefined && (known === null || (t.expiresAt !== null && t.expiresAt <= known))) return false;
    const ttl = t.expiresAt === null ? Number.POSITIVE_INFINITY : (t.expiresAt + 1) * 1000 - Date.now();
    if (ttl <= 0) return false;
    this.#tokens.set(t.tokenId, t.expiresAt, ttl);
    this.#misses.delete(`t:${t.tokenId}`);
    if (this.#tokens.size >= TOKEN_CAPACITY) this.#complete = false;
    return true;
  }

  /** Records a user's revocation times learned elsewhere (only ever moved forward); true when news. */
  applyUser(u: UserRevocation): boolean {
    const known = this.#users.get(u.userId);
    const next: UserTimes = { revokedAt: later(known?.revokedAt, u.revokedAt), keysRevokedAt: later(known?.keysRevokedAt, u.keysRevokedAt) };
    this.#misses.delete(`u:${u.userId}`);
    if (known !== undefined && known.revokedAt === next.revokedAt && known.keysRevokedAt === next.keysRevokedAt) return false;
    this.#users.set(u.userId, next);
    if (this.#users.size >= USER_CAPACITY) this.#complete = false;
    return true;
  }

  /** Starts reading what changed every interval (the store is unreachable, so peers' announcements are lost). */
  startPolling(): void {
    if (this.#poll !== null) return;
    this.log.warn({ intervalMs: this.pollIntervalMs }, "store unreachable: reading new revocations from the database");
    this.#poll = setInterval(() => void this.catchUp(), this.pollIntervalMs);
    void this.catchUp();
  }

  /** Stops the poll after one last read (covers the moments before the store came back). */
  stopPolling(): void {
    if (this.#poll === null) return;
    clearInterval(this.#poll);
    this.#poll = null;
    this.log.info("store reachable again: stopped reading revocations from the database");
    void this.catchUp();
  }

  /** True while the poll runs. */
  get polling(): boolean {
    return this.#poll !== null;
  }

  /** Reads what changed since the last read and applies it. Never throws. */
  async catchUp(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      if (this.#cursorMs === null) {
        await this.load();
        return;
      }
      this.#apply(await this.record.changedSince(this.#cursorMs - POLL_OVERLAP_MS), true);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "reading new revocations from the database failed");
    } finally {
      this.#polling = false;
    }
  }

  stop(): void {
    if (this.#poll !== null) clearInterval(this.#poll);
    this.#poll = null;
  }

  async #fetch(tokenId: string | null, userId: string): Promise<void> {
    const found = await this.record.lookup(tokenId, userId);
    if (found.token) this.applyToken(found.token);
    else if (tokenId !== null) this.#misses.set(`t:${tokenId}`, true);
    if (found.user) this.applyUser(found.user);
    else this.#misses.set(`u:${userId}`, true);
  }

  #apply(batch: RevocationBatch, announce: boolean): void {
    for (const t of batch.tokens) if (this.applyToken(t) && announce) this.onChange({ jti: t.tokenId });
    for (const u of batch.users) if (this.applyUser(u) && announce) this.onChange({ userId: u.userId });
    this.#cursorMs = Math.max(this.#cursorMs ?? 0, batch.cursorMs);
  }
}

/** A per-user revocation at `revokedAt` refuses tokens issued at or before it (and those without `iat`). */
export function revokesIat(revokedAt: number, iat: number | undefined): boolean {
  return iat === undefined || iat <= revokedAt;
}

function later(a: number | null | undefined, b: number | null): number | null {
  if (a === undefined || a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
