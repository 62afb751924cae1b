import { BoundedMap } from "../cache/bounded-map.ts";
import type { PropagationObserver } from "../observability/revocation-metrics.ts";
import type { KeyValueStore, Unsubscribe } from "../kv/store.ts";
import type { KeyWatcher } from "../kv/key-watch.ts";
import type { RedisFailureMode } from "../config/config.ts";
import type { Logger } from "../observability/logger.ts";
import { RevocationUnavailableError, userRevokes, type CheckOptions, type RevocableClaims, type RevokeUserOptions } from "./revocation-types.ts";
import { decodeAnnouncement, encodeAnnouncement, type Announcement } from "./revocation-announcement.ts";
import { DurableRevocations, type RevocationRecord } from "./durable-revocations.ts";
import { StoreOutage } from "./store-outage.ts";
import { reseedStore } from "./store-reseed.ts";
import { NO_EXP_TTL_SECONDS, parseRevocationKey, REVOCATION_CHANNEL, REVOCATION_KEYS, tokenRevokedKey, ttlSeconds, userRevokedAtKey } from "./revocation-keys.ts";

const UNKNOWN = undefined;

/** What the replica knows about one key: revoked state, or "none". */
type TokenState = "revoked" | "clear";
type UserState = number | "clear";

/**
 * Revocation with a local replica (DESIGN §4.5). Answers from memory when it can; asks the
 * store only for keys it has not seen since the watch was last (re)established. Kept
 * fresh by pub/sub between Gatehouse instances and by server-assisted invalidation, so
 * keys written straight into Redis by Open WebUI are honoured too.
 *
 * Postgres is the durable record (issue 12, hole 2): every revocation is written there
 * first, then to the store and announced. Its copy ({@link DurableRevocations}) is checked
 * before the store's replica and survives restarts and a Redis that lost its data; while
 * the store is unreachable, new revocations of peers are read from the table.
 */
export class RevocationService {
  readonly #tokens = new BoundedMap<string, TokenState>(200_000);
  readonly #users = new BoundedMap<string, UserState>(100_000);
  #warm = false;
  /** Bumped on every change learned; a store read that raced a change is not cached. */
  #epoch = 0;
  readonly #subscriptions: Unsubscribe[] = [];
  /** Tells this instance's own announcements apart from peers' (only peers' are timed). */
  readonly #origin = crypto.randomUUID();
  /** Called with the user id / jti whenever a revocation is learned (to close sockets, drop caches). */
  readonly listeners = new Set<(e: { userId?: string; jti?: string }) => void>();

  constructor(
    private readonly store: KeyValueStore,
    private readonly watcher: KeyWatcher | null,
    private readonly failureMode: RedisFailureMode,
    private readonly log: Logger,
    /** false: never trust local answers (every check asks the store); for diagnosis and benchmarks. */
    private readonly useReplica = true,
    /** Observes publish-to-applied time of each peer announcement. */
    private readonly onPropagated: PropagationObserver = () => {},
    /** The durable record (Postgres); null: the store is the only record (tools, tests). */
    record: RevocationRecord | null = null,
  ) {
    this.durable = record === null ? null : new DurableRevocations(record, log, (e) => this.#emit(e));
    // While the store is down peers' announcements are lost: read new revocations from the table.
    this.#outage = new StoreOutage(store, () => this.durable?.startPolling(), () => this.durable?.stopPolling());
  }

  readonly #outage: StoreOutage;

  /** This instance's copy of the durable record, when there is one. */
  readonly durable: DurableRevocations | null;

  /** True while local answers are trusted (watch established). */
  get warm(): boolean {
    return this.#warm && this.useReplica;
  }

  /** Subscribes to peer messages and the key watch. Never throws: a down store just leaves the replica cold. */
  async start(): Promise<void> {
    this.#outage.start();
    // The store's circuit breaker sees an outage first (two failed commands anywhere in the process).
    const offHealth = this.store.onHealthChange((down) => {
      if (down) this.#outage.failed();
    });
    this.#subscriptions.push(async () => offHealth());
    await this.durable?.load();
    try {
      this.#subscriptions.push(await this.store.subscribe(REVOCATION_CHANNEL, (m) => this.#onPeerMessage(m)));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "revocation channel unavailable; checking the store directly");
      this.#outage.failed();
    }
    if (this.watcher === null) {
      // The in-memory store is the only writer: every change goes through this process.
      this.#warm = this.store.kind === "memory";
      return;
    }
    try {
      this.#subscriptions.push(
        await this.watcher.watch("auth:", {
          onKeys: (keys) => keys.forEach((k) => this.#forget(k)),
          onReset: () => {
            this.#epoch++;
            this.#tokens.clear();
            this.#users.clear();
            this.#warm = true;
            this.#outage.back();
            if (this.durable !== null) void reseedStore(this.store, this.durable, REVOCATION_KEYS, this.#origin, this.log);
          },
          onDown: () => {
            this.#epoch++;
            this.#warm = false;
            this.#outage.failed();
          },
        }),
      );
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "revocation key watch unavailable; checking the store directly");
      this.#outage.failed();
    }
  }

  async stop(): Promise<void> {
    this.#outage.stop();
    this.durable?.stop();
    for (const u of this.#subscriptions.splice(0)) await u().catch(() => {});
  }

  /**
   * The replica's answer without I/O: true (revoked), false (certainly not), or undefined
   * when only the store can tell.
   */
  revokedLocally(claims: RevocableClaims): boolean | undefined {
    const durable = this.durable === null ? false : this.durable.verdict(claims);
    if (durable === true) return true;
    const replica = this.#replicaVerdict(claims);
    return replica === true || durable === false ? replica : undefined;
  }

  #replicaVerdict(claims: RevocableClaims): boolean | undefined {
    const tokenState = claims.jti ? this.#tokens.get(claims.jti) : "clear";
    const userState = this.#users.get(claims.id);
    if (tokenState === "revoked") return true;
    if (typeof userState === "number" && userRevokes(userState, claims)) return true;
    if (!this.warm || tokenState === undefined || userState === undefined) return undefined;
    return false;
  }

  /**
   * True when the token was revoked (by jti, or by a per-user revoke at or after its `iat`).
   * @throws RevocationUnavailableError when the store cannot answer and the mode is `closed`.
   */
  async isRevoked(claims: RevocableClaims, opts: CheckOptions = {}): Promise<boolean> {
    const durable = this.durable === null ? false : await this.durable.lookup(claims);
    if (durable === true) return true;
    let tokenState: TokenState | undefined = claims.jti ? this.#tokens.get(claims.jti) : "clear";
    let userState: UserState | undefined = this.#users.get(claims.id);
    if (tokenState === "revoked") return true;
    if (typeof userState === "number" && userRevokes(userState, claims)) return true;
    if (!this.warm) {
      tokenState = claims.jti ? UNKNOWN : "clear";
      userState = UNKNOWN;
    }
    if (tokenState !== UNKNOWN && userState !== UNKNOWN) return false;
    if (this.#outage.down && durable === false) {
      // Known down: answer now rather than wait for the store (the record has spoken for Gatehouse's revocations).
      if (opts.storeOptional || this.failureMode === "open") return false;
      throw new RevocationUnavailableError();
    }
    const epoch = this.#epoch;
    try {
      const [tok, usr] = await Promise.all([
        tokenState === UNKNOWN ? this.store.get(tokenRevokedKey(claims.jti!)) : Promise.resolve(null),
        userState === UNKNOWN ? this.store.get(userRevokedAtKey(claims.id)) : Promise.resolve(null),
      ]);
      // An invalidation may overtake the reply on another connection: cache only if none arrived meanwhile.
      const cacheable = this.warm && epoch === this.#epoch;
      if (tokenState === UNKNOWN) {
        tokenState = tok !== null ? "revoked" : "clear";
        if (cacheable || tokenState === "revoked") this.#tokens.set(claims.jti!, tokenState);
      }
      if (userState === UNKNOWN) {
        userState = usr !== null && Number.isFinite(Number(usr)) ? Number(usr) : "clear";
        if (cacheable) this.#users.set(claims.id, userState);
      }
    } catch {
      this.#outage.failed();
      if (this.failureMode === "closed" && !(opts.storeOptional && durable === false)) throw new RevocationUnavailableError();
      return false;
    }
    return tokenState === "revoked" || (typeof userState === "number" && userRevokes(userState, claims));
  }

  /** The user's `revoked_at` (unix seconds), or null; from the replica when it knows. */
  async userRevokedAt(userId: string): Promise<number | null> {
    const durable = this.durable?.userRevokedAt(userId) ?? null;
    const stored = await this.#storedUserRevokedAt(userId);
    return durable === null || stored === null ? (durable ?? stored) : Math.max(durable, stored);
  }

  async #storedUserRevokedAt(userId: string): Promise<number | null> {
    const known = this.warm ? this.#users.get(userId) : undefined;
    if (known !== undefined) return known === "clear" ? null : known;
    try {
      const v = await this.store.get(userRevokedAtKey(userId));
      return v !== null && Number.isFinite(Number(v)) ? Number(v) : null;
    } catch {
      return null;
    }
  }

  /** True when an API key of `userId` created at `createdAt` (unix seconds) was revoked with its user. */
  apiKeyRevoked(userId: string, createdAt: number): Promise<boolean> {
    return this.durable === null ? Promise.resolve(false) : this.durable.apiKeyRevoked(userId, createdAt);
  }

  /**
   * Revokes one token (by jti, or a legacy token's digest id) for as long as the longest-lived
   * token of its session: the durable record first, then the store and the other instances.
   * With a durable record, a store failure is logged, not thrown (the record is enforced).
   */
  async revokeToken(jti: string, exp: number | undefined, nowSeconds = Date.now() / 1000, userId: string | null = null): Promise<void> {
    const until = this.durable === null ? (exp ?? null) : await this.durable.revokeToken(jti, userId, exp ?? null);
    this.#tokens.set(jti, "revoked");
    await this.#write(() => this.store.set(tokenRevokedKey(jti), "1", { ttlMs: ttlSeconds(until, nowSeconds) * 1000 }));
    await this.#announce({ jti, exp: until });
  }

  /** Revokes every token of `userId` issued at or before `at` (default: now); see {@link RevokeUserOptions}. */
  async revokeUser(userId: string, at = Math.floor(Date.now() / 1000), opts: RevokeUserOptions = {}): Promise<void> {
    const tokensAt = opts.keysOnly ? null : at;
    const keysAt = opts.apiKeys || opts.keysOnly ? at : null;
    const times = this.durable === null ? { revokedAt: tokensAt, keysRevokedAt: keysAt } : await this.durable.revokeUser(userId, tokensAt, keysAt);
    if (times.revokedAt !== null && tokensAt !== null) {
      const revokedAt = times.revokedAt;
      this.#users.set(userId, revokedAt);
      await this.#write(() => this.store.set(userRevokedAtKey(userId), String(revokedAt), { ttlMs: NO_EXP_TTL_SECONDS * 1000 }));
    }
    await this.#announce({ userId, revokedAt: times.revokedAt, keysRevokedAt: times.keysRevokedAt });
  }

  /** A store write after the durable one: its failure starts the table poll instead of failing the revocation. */
  async #write(op: () => Promise<unknown>): Promise<void> {
    if (this.durable === null) {
      await op();
      return;
    }
    if (this.#outage.down) {
      // Known down: the revocation is recorded and enforced; do not wait for the store's timeout.
      void op().catch(() => {});
      return;
    }
    try {
      await op();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "revocation recorded in the database; the store write failed");
      this.#outage.failed();
    }
  }

  async #announce(e: Announcement): Promise<void> {
    this.#emit(e.jti !== undefined ? { jti: e.jti } : { userId: e.userId });
    const published = this.store.publish(REVOCATION_CHANNEL, encodeAnnouncement(e, this.#origin)).catch(() => 0);
    // Peers that miss it while the store is down read the record instead.
    if (!this.#outage.down) await published;
  }

  #onPeerMessage(message: string): void {
    const e = decodeAnnouncement(message);
    if (e === null) return;
    if (typeof e.jti === "string") {
      this.#tokens.set(e.jti, "revoked");
      // Peers announce what they wrote to the durable record, so this copy needs no query.
      if (typeof e.exp === "number" || e.exp === null) this.durable?.applyToken({ tokenId: e.jti, expiresAt: e.exp });
      this.#emit({ jti: e.jti });
    }
    if (typeof e.at === "number" && e.from !== this.#origin) this.onPropagated((Date.now() - e.at) / 1000);
    if (typeof e.userId === "string") {
      // The exact value is re-read on next use; the peer's clock decided it.
      this.#users.delete(e.userId);
      const time = (v: unknown) => (typeof v === "number" ? v : null);
      if ("revokedAt" in e) this.durable?.applyUser({ userId: e.userId, revokedAt: time(e.revokedAt), keysRevokedAt: time(e.keysRevokedAt) });
      this.#emit({ userId: e.userId });
    }
  }

  /** A watched key changed: drop what we knew so the next check re-reads it. */
  #forget(key: string): void {
    const e = parseRevocationKey(key);
    if (e === null) return;
    if ("jti" in e) this.#tokens.delete(e.jti);
    else this.#users.delete(e.userId);
    this.#emit(e);
  }

  #emit(e: { userId?: string; jti?: string }): void {
    this.#epoch++;
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure must not stop revocation.
      }
    }
  }
}
