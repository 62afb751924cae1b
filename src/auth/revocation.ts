import { BoundedMap } from "../cache/bounded-map.ts";
import type { PropagationObserver } from "../observability/revocation-metrics.ts";
import type { KeyValueStore, Unsubscribe } from "../kv/store.ts";
import type { KeyWatcher } from "../kv/key-watch.ts";
import type { RedisFailureMode } from "../config/config.ts";
import type { Logger } from "../observability/logger.ts";
import { ServiceError } from "../errors.ts";

/** The claims revocation looks at. */
export interface RevocableClaims {
  id: string;
  jti?: string;
  iat?: number;
  exp?: number;
}

/** Revocation could not be checked (store down, failure mode `closed`). */
export class RevocationUnavailableError extends ServiceError {
  constructor() {
    super("ERR_REVOCATION_UNAVAILABLE", 503, "Session check is temporarily unavailable. Please retry.", 1);
  }
}

/** Logical key names, Open WebUI's layout (the store adds the prefix). */
export const tokenRevokedKey = (jti: string) => `auth:token:${jti}:revoked`;
export const userRevokedAtKey = (userId: string) => `auth:user:${userId}:revoked_at`;
/** Where instances tell each other about revocations they made. */
export const REVOCATION_CHANNEL = "auth:revocations";

// A token with no exp must stay revocable as long as it could be presented; ten years is "forever" here.
const NO_EXP_TTL_SECONDS = 10 * 365 * 86400;
const UNKNOWN = undefined;

/** What the replica knows about one key: revoked state, or "none". */
type TokenState = "revoked" | "clear";
type UserState = number | "clear";

/**
 * Revocation with a local replica (DESIGN §4.5). Answers from memory when it can; asks the
 * store only for keys it has not seen since the watch was last (re)established. Kept
 * fresh by pub/sub between Gatehouse instances and by server-assisted invalidation, so
 * keys written straight into Redis by Open WebUI are honoured too.
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
  ) {}

  /** True while local answers are trusted (watch established). */
  get warm(): boolean {
    return this.#warm && this.useReplica;
  }

  /** Subscribes to peer messages and the key watch. Never throws: a down store just leaves the replica cold. */
  async start(): Promise<void> {
    try {
      this.#subscriptions.push(await this.store.subscribe(REVOCATION_CHANNEL, (m) => this.#onPeerMessage(m)));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "revocation channel unavailable; checking the store directly");
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
          },
          onDown: () => {
            this.#epoch++;
            this.#warm = false;
          },
        }),
      );
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "revocation key watch unavailable; checking the store directly");
    }
  }

  async stop(): Promise<void> {
    for (const u of this.#subscriptions.splice(0)) await u().catch(() => {});
  }

  /**
   * The replica's answer without I/O: true (revoked), false (certainly not), or undefined
   * when only the store can tell.
   */
  revokedLocally(claims: RevocableClaims): boolean | undefined {
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
  async isRevoked(claims: RevocableClaims): Promise<boolean> {
    let tokenState: TokenState | undefined = claims.jti ? this.#tokens.get(claims.jti) : "clear";
    let userState: UserState | undefined = this.#users.get(claims.id);
    if (tokenState === "revoked") return true;
    if (typeof userState === "number" && userRevokes(userState, claims)) return true;
    if (!this.warm) {
      tokenState = claims.jti ? UNKNOWN : "clear";
      userState = UNKNOWN;
    }
    if (tokenState !== UNKNOWN && userState !== UNKNOWN) return false;
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
      if (this.failureMode === "closed") throw new RevocationUnavailableError();
      return false;
    }
    return tokenState === "revoked" || (typeof userState === "number" && userRevokes(userState, claims));
  }

  /** The user's `revoked_at` (unix seconds), or null; from the replica when it knows. */
  async userRevokedAt(userId: string): Promise<number | null> {
    const known = this.warm ? this.#users.get(userId) : undefined;
    if (known !== undefined) return known === "clear" ? null : known;
    try {
      const v = await this.store.get(userRevokedAtKey(userId));
      return v !== null && Number.isFinite(Number(v)) ? Number(v) : null;
    } catch {
      return null;
    }
  }

  /** Revokes one token until it would have expired anyway. */
  async revokeToken(jti: string, exp: number | undefined, nowSeconds = Date.now() / 1000): Promise<void> {
    const ttl = exp === undefined ? NO_EXP_TTL_SECONDS : Math.max(1, Math.ceil(exp - nowSeconds));
    await this.store.set(tokenRevokedKey(jti), "1", { ttlMs: ttl * 1000 });
    this.#tokens.set(jti, "revoked");
    await this.#announce({ jti });
  }

  /** Revokes every token of `userId` issued at or before `at` (default: now). */
  async revokeUser(userId: string, at = Math.floor(Date.now() / 1000)): Promise<void> {
    await this.store.set(userRevokedAtKey(userId), String(at), { ttlMs: NO_EXP_TTL_SECONDS * 1000 });
    this.#users.set(userId, at);
    await this.#announce({ userId });
  }

  async #announce(e: { userId?: string; jti?: string }): Promise<void> {
    this.#emit(e);
    await this.store.publish(REVOCATION_CHANNEL, JSON.stringify({ ...e, at: Date.now(), from: this.#origin })).catch(() => {});
  }

  #onPeerMessage(message: string): void {
    let e: { userId?: unknown; jti?: unknown; at?: unknown; from?: unknown };
    try {
      e = JSON.parse(message) as typeof e;
    } catch {
      return;
    }
    if (typeof e.jti === "string") {
      this.#tokens.set(e.jti, "revoked");
      this.#emit({ jti: e.jti });
    }
    if (typeof e.at === "number" && e.from !== this.#origin) this.onPropagated((Date.now() - e.at) / 1000);
    if (typeof e.userId === "string") {
      // The exact value is re-read on next use; the peer's clock decided it.
      this.#users.delete(e.userId);
      this.#emit({ userId: e.userId });
    }
  }

  /** A watched key changed: drop what we knew so the next check re-reads it. */
  #forget(key: string): void {
    const token = /^auth:token:(.+):revoked$/.exec(key);
    if (token) {
      this.#tokens.delete(token[1]!);
      this.#emit({ jti: token[1]! });
      return;
    }
    const user = /^auth:user:(.+):revoked_at$/.exec(key);
    if (user) {
      this.#users.delete(user[1]!);
      this.#emit({ userId: user[1]! });
    }
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

function userRevokes(revokedAt: number, claims: RevocableClaims): boolean {
  return claims.iat === undefined || claims.iat <= revokedAt;
}
