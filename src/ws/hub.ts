import type { Registry } from "prom-client";
import type { AuthModule } from "../auth/auth-module.ts";
import type { WsConfig } from "../config/config.ts";
import type { KeyValueStore } from "../kv/store.ts";
import type { Logger } from "../observability/logger.ts";
import type { TokenClaims } from "../auth/session-tokens.ts";
import type { UserRecord } from "../db/repos/users.ts";
import { closeCodeLabel, createWsMetrics, type WsMetrics, type WsTransportKind } from "../observability/ws-metrics.ts";
import { WsConnection } from "./connection.ts";
import { SocketRegistry } from "./socket-registry.ts";
import { SessionPool, poolUser, type PoolUser } from "./session-pool.ts";
import { PoolReaper } from "./pool-reaper.ts";
import { UsagePool } from "./usage-pool.ts";
import { Upkeep } from "./upkeep.ts";
import { Emitter, type EmitResult } from "./emitter.ts";
import { SessionWatch } from "./session-watch.ts";
import { SocketAuthenticator, type SocketAuthResult } from "./socket-auth.ts";
import { FrameDispatcher, type EventHandler, type HandlerOptions } from "./frame-dispatch.ts";
import { CLOSE, errorFrame } from "./protocol.ts";
import { AnonymousSocketCap } from "./anonymous-cap.ts";
import type { ChannelAccess } from "./channel-access.ts";
import type { SocketIoEndpoint } from "./socketio-endpoint.ts";
import { runtimeLimits, type RuntimeLimits, type SocketSeed, type WsTransport } from "./transport.ts";

/** A token checked by {@link WsHub.verify}, with the revocation epoch it was checked at. */
export interface VerifiedToken {
  result: SocketAuthResult;
  epoch: number;
}

/** What the hub is built on. */
export interface WsHubDeps {
  config: WsConfig;
  store: KeyValueStore;
  log: Logger;
  registry: Registry;
  auth: Pick<AuthModule, "current" | "revocation" | "userCache" | "activity" | "sessions">;
  channels: ChannelAccess;
  trustedEmailHeader: string | null;
  /** `GATEHOUSE_TRUSTED_PROXIES`: who may set the trusted email header and X-Forwarded-For. */
  trustedProxies?: readonly string[];
}

/**
 * The socket hub, runtime-neutral: the Bun and Deno adapters (src/runtime) only turn their
 * socket events into {@link open}, {@link message} and {@link closed}. It authenticates
 * sockets through the HTTP auth path, keeps rooms and the shared `session_pool`, delivers
 * emits on every instance, and closes sockets whose session ends (DESIGN §4.8).
 */
export class WsHub {
  readonly path = "/ws";
  readonly instanceId = crypto.randomUUID();
  readonly limits: RuntimeLimits;
  readonly metrics: WsMetrics;
  readonly pool: SessionPool;
  readonly usage: UsagePool;
  readonly channels: ChannelAccess;
  /** The trusted-proxy email header (lower case), read from upgrade requests when configured. */
  readonly trustedEmailHeader: string | null;
  readonly trustedProxies: readonly string[];
  /** Socket.IO at `/ws/socket.io` over this hub, when the runtime serves it (src/ws/socketio-*.ts). */
  socketio: SocketIoEndpoint | null = null;
  readonly #sockets = new SocketRegistry();
  readonly #emitter: Emitter;
  readonly #upkeep: Upkeep;
  readonly #watch: SessionWatch;
  readonly #authenticator: SocketAuthenticator;
  readonly #dispatch: FrameDispatcher;
  readonly #anonymous: AnonymousSocketCap;
  #draining = false;
  #lastStoreWarning = 0;
  #lastAnonymousWarning = 0;

  constructor(private readonly d: WsHubDeps) {
    const c = d.config;
    this.limits = runtimeLimits(c);
    this.metrics = createWsMetrics(d.registry, { counts: (transport) => this.#sockets.countsOf(transport) });
    this.pool = new SessionPool(d.store);
    this.usage = new UsagePool(d.store);
    this.channels = d.channels;
    this.trustedEmailHeader = d.trustedEmailHeader;
    this.trustedProxies = d.trustedProxies ?? [];
    this.#anonymous = new AnonymousSocketCap(c.anonPerClient, c.anonMax);
    this.#emitter = new Emitter({
      sockets: this.#sockets, store: d.store, instanceId: this.instanceId, maxPayloadBytes: c.maxPayloadBytes, metrics: this.metrics,
      push: (conn, frame) => this.#push(conn, frame),
      onPublishError: (e) => this.#storeWarning(e, "publishing an emit to other instances"),
    });
    const reaperOpts = { timeoutSeconds: c.sessionPoolTimeoutSeconds, intervalMs: c.reaperIntervalMs, instanceId: this.instanceId };
    this.#upkeep = new Upkeep({
      sockets: this.#sockets, intervalMs: c.reaperIntervalMs, refreshMs: (c.sessionPoolTimeoutSeconds * 1000) / 3,
      reaper: new PoolReaper(d.store, this.pool, reaperOpts, (sid) => this.#sockets.get(sid)?.state === "authenticated"),
      end: (conn, code, reason) => this.#end(conn, code, reason),
      liveExpiries: (ids) => d.auth.sessions.liveExpiries(ids),
      writePool: (conn) => this.#writePool(conn),
      metrics: this.metrics, log: d.log,
      onStoreError: (e) => this.#storeWarning(e, "reaping session_pool"),
    });
    this.#watch = new SessionWatch({
      socketsOfUser: (userId) => this.#sockets.socketsOfUser(userId),
      socketsWithJti: (jti) => this.#sockets.socketsWithJti(jti),
      end: (conn, code, reason) => this.#end(conn, code, reason),
      updateUser: (user) => {
        if (this.#sockets.setUser(user)) for (const conn of this.#sockets.socketsOfUser(user.id)) this.#writePool(conn);
      },
    }, d.auth, d.log);
    this.#authenticator = new SocketAuthenticator(d.auth.current, d.trustedEmailHeader);
    this.#dispatch = new FrameDispatcher(this, c, this.metrics, d.log);
  }

  /** Registers a client event; the handler's return value is the ack's `data`. */
  on(event: string, handler: EventHandler, opts: HandlerOptions = {}): void {
    this.#dispatch.on(event, handler, opts);
  }

  /** False once draining: new upgrades are refused (503). */
  get accepting(): boolean {
    return !this.#draining;
  }

  /** Open sockets here, by state. */
  counts(): { authenticated: number; anonymous: number } {
    return this.#sockets.counts();
  }

  async start(): Promise<void> {
    this.#watch.start();
    await this.#emitter.start();
    this.#upkeep.start();
  }

  /** Closes every socket with 1001 and removes their session_pool entries; new upgrades are refused. */
  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    const ids: string[] = [];
    for (const conn of this.#sockets.all()) {
      if (conn.state === "authenticated") ids.push(conn.id);
      this.#end(conn, CLOSE.GOING_AWAY, "Server shutting down", false);
    }
    await this.pool.remove(ids).catch((e) => this.#storeWarning(e, "removing session_pool entries at shutdown"));
  }

  async stop(): Promise<void> {
    this.#upkeep.stop();
    this.#watch.stop();
    await this.drain();
    await this.#emitter.stop();
  }

  // ---- adapter entry points ----

  /** A socket finished its upgrade. */
  open(transport: WsTransport, seed: SocketSeed, verified?: VerifiedToken): WsConnection {
    const conn = new WsConnection(crypto.randomUUID(), transport, seed.trustedEmail);
    this.#sockets.add(conn);
    // A socket without a token (nor one checked at a Socket.IO handshake) waits for user-join:
    // those are capped per client and in all.
    const anonymous = seed.token === null && !verified;
    const client = seed.client ?? "unknown";
    // A slot reserved at the handshake belongs to the connection from here on, released with it.
    if (anonymous && seed.anonymousReserved) conn.anonymousClient = client;
    if (this.#draining) {
      this.#end(conn, CLOSE.GOING_AWAY, "Server shutting down");
      return conn;
    }
    if (anonymous && !seed.anonymousReserved) {
      if (!this.reserveAnonymous(client, conn.kind)) {
        this.#end(conn, CLOSE.TRY_LATER, "Too many unauthenticated sockets");
        return conn;
      }
      conn.anonymousClient = client;
    }
    conn.authTimer = setTimeout(() => {
      if (conn.state !== "anonymous") return;
      this.metrics.authFailures.inc({ reason: "timeout", transport: conn.kind });
      this.#end(conn, CLOSE.UNAUTHORIZED, "Unauthorized");
    }, this.d.config.authTimeoutMs);
    if (verified) {
      // Checked at the Socket.IO handshake (refused ones never got here): admit without a second check.
      this.#dispatch.hold(conn);
      this.#settle(conn, verified.result, verified.epoch)
        .catch((e: unknown) => this.d.log.error({ err: (e as Error).message }, "WebSocket authentication failed unexpectedly"))
        .finally(() => this.#dispatch.release(conn));
    } else if (seed.token !== null) {
      this.#dispatch.hold(conn);
      this.authenticate(conn, seed.token)
        .catch((e: unknown) => this.d.log.error({ err: (e as Error).message }, "WebSocket authentication failed unexpectedly"))
        .finally(() => this.#dispatch.release(conn));
    }
    return conn;
  }

  /**
   * Counts one socket waiting to authenticate against the per-client and global caps
   * (`GATEHOUSE_WS_ANON_PER_CLIENT`, `GATEHOUSE_WS_ANON_MAX`), shared by `/ws` and Socket.IO;
   * false (counted in `gatehouse_ws_auth_failures_total{reason="too_many_anonymous"}`) when a
   * cap is reached. A reservation is handed to {@link open} or given back with {@link releaseAnonymous}.
   */
  reserveAnonymous(client: string, transport: WsTransportKind = "ws"): boolean {
    if (this.#anonymous.admit(client)) return true;
    this.metrics.authFailures.inc({ reason: "too_many_anonymous", transport });
    // One line per 10 s at most: a flood of refused sockets must not become a flood of log lines.
    const now = Date.now();
    if (now - this.#lastAnonymousWarning >= 10_000) {
      this.#lastAnonymousWarning = now;
      this.d.log.warn({ client, transport }, "WebSocket refused: too many unauthenticated sockets (gatehouse_ws_auth_failures_total{reason=\"too_many_anonymous\"} counts them)");
    }
    return false;
  }

  /** Gives back a reservation that never became a socket (the handshake failed or the client left). */
  releaseAnonymous(client: string): void {
    this.#anonymous.release(client);
  }

  /** A frame arrived. Never throws: every problem becomes an `error` event or a close. */
  message(conn: WsConnection, raw: string | ArrayBuffer | Uint8Array): void {
    this.#dispatch.receive(conn, raw);
  }

  /** The runtime reports the socket closed (by either side). */
  closed(conn: WsConnection, code: number): void {
    if (conn.state === "closed") return;
    this.metrics.closes.inc({ code: closeCodeLabel(code), transport: conn.kind });
    this.#cleanup(conn, true);
  }

  // ---- emits ----

  /** Emits to every socket of `userId`, on every instance. @throws WsPayloadTooLargeError (synchronously) */
  emitToUser(userId: string, event: string, data: unknown): Promise<EmitResult> {
    return this.#emitter.emit(`user:${userId}`, event, data);
  }

  /** Emits to a room (`user:{id}`, `channel:{id}`) on every instance. @throws WsPayloadTooLargeError (synchronously) */
  emitToRoom(room: string, event: string, data: unknown): Promise<EmitResult> {
    return this.#emitter.emit(room, event, data);
  }

  /** Emits to every authenticated socket on every instance. @throws WsPayloadTooLargeError (synchronously) */
  emitToAll(event: string, data: unknown): Promise<EmitResult> {
    return this.#emitter.emit(null, event, data);
  }

  /** Sends one frame; a client past the backpressure limit is closed (1013). */
  send(conn: WsConnection, frame: string): boolean {
    if (!conn.open || !this.#push(conn, frame)) return false;
    this.metrics.messagesOut[conn.kind].inc();
    return true;
  }

  #push(conn: WsConnection, frame: string): boolean {
    const outcome = conn.transport.send(frame);
    if (outcome === "dropped") this.#end(conn, CLOSE.TRY_LATER, "Client too slow");
    return outcome === "sent";
  }

  // ---- authentication and rooms (used by the event handlers) ----

  /** Verifies `token` for this socket; on success joins `user:{id}` and returns Open WebUI's ack `{id, name}`; on failure closes. */
  async authenticate(conn: WsConnection, token: string): Promise<{ id: string; name: string } | null> {
    const epoch = this.#watch.epoch;
    const r = await this.#authenticator.authenticate(token, conn.trustedEmail);
    return this.#settle(conn, r, epoch);
  }

  /**
   * Checks a token before any socket exists (Socket.IO's handshake, so a refused token gets
   * `connect_error`); pass the result to {@link open}. Refusals are counted here.
   */
  async verify(token: string, trustedEmail: string | null): Promise<VerifiedToken> {
    const epoch = this.#watch.epoch;
    const result = await this.#authenticator.authenticate(token, trustedEmail);
    if (!result.ok) this.metrics.authFailures.inc({ reason: result.reason, transport: "socketio" });
    return { result, epoch };
  }

  async #settle(conn: WsConnection, r: SocketAuthResult, epoch: number): Promise<{ id: string; name: string } | null> {
    if (!conn.open) return null;
    if (!r.ok) {
      this.metrics.authFailures.inc({ reason: r.reason, transport: conn.kind });
      this.#end(conn, r.closeCode, r.closeCode === CLOSE.UNAUTHORIZED ? "Unauthorized" : "Try again later");
      return null;
    }
    if (!this.#admit(conn, r.user, r.claims)) return null;
    // A revocation or user change that landed while we were checking may not have seen this socket.
    if (this.#watch.epoch !== epoch) {
      await this.#watch.recheck([conn]);
      await this.#watch.refreshUser(r.user.id);
      if (!conn.open) return null;
    }
    return { id: r.user.id, name: r.user.name };
  }

  #admit(conn: WsConnection, user: UserRecord, claims: TokenClaims): boolean {
    const sockets = this.#sockets.socketsOfUser(user.id);
    if (!sockets.has(conn) && sockets.size >= this.d.config.maxSocketsPerUser) {
      this.send(conn, errorFrame("ERR_WS_TOO_MANY_SOCKETS", "Too many open sockets for this user"));
      this.#end(conn, CLOSE.POLICY, "Too many sockets");
      return false;
    }
    const wasAuthenticated = conn.state === "authenticated";
    // Rooms were authorised for the previous user; a switch of user leaves them.
    if (wasAuthenticated) this.#sockets.unindex(conn, conn.userId !== user.id);
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = null;
    this.#releaseAnonymous(conn);
    conn.state = "authenticated";
    conn.userId = user.id;
    conn.jti = claims.jti ?? null;
    conn.iat = claims.iat;
    conn.exp = claims.exp;
    this.#sockets.index(conn, poolUser(user), wasAuthenticated);
    this.#writePool(conn);
    return true;
  }

  /** Joins rooms (beyond `user:{id}`) that the caller has already authorised. */
  joinRooms(conn: WsConnection, rooms: readonly string[]): void {
    if (conn.state !== "authenticated") return;
    for (const room of rooms) this.#sockets.joinRoom(conn, room);
  }

  /** The pooled snapshot of the socket's user. */
  userOf(conn: WsConnection): PoolUser | undefined {
    return conn.userId === null ? undefined : this.#sockets.user(conn.userId);
  }

  /** Refreshes the socket's session_pool entry unless it was written within `withinMs`. */
  touch(conn: WsConnection, withinMs: number): void {
    if (conn.state === "authenticated" && Date.now() - conn.poolWrittenAt >= withinMs) this.#writePool(conn);
  }

  /** Closes one socket with `code` and cleans up at once (the runtime's close report is then ignored). */
  end(conn: WsConnection, code: number, reason: string): void {
    this.#end(conn, code, reason);
  }

  // ---- internals ----

  #end(conn: WsConnection, code: number, reason: string, removeFromPool = true): void {
    if (conn.state === "closed") return;
    this.metrics.closes.inc({ code: closeCodeLabel(code), transport: conn.kind });
    this.#cleanup(conn, removeFromPool);
    try {
      conn.transport.close(code, reason);
    } catch {
      // Already closed underneath us: the cleanup above is all that was needed.
    }
  }

  #releaseAnonymous(conn: WsConnection): void {
    if (conn.anonymousClient === null) return;
    this.#anonymous.release(conn.anonymousClient);
    conn.anonymousClient = null;
  }

  #cleanup(conn: WsConnection, removeFromPool: boolean): void {
    this.#releaseAnonymous(conn);
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = null;
    conn.held = null;
    const wasAuthenticated = this.#sockets.remove(conn);
    conn.state = "closed";
    if (wasAuthenticated && removeFromPool) this.pool.remove([conn.id]).catch((e) => this.#storeWarning(e, "removing a session_pool entry"));
    if (wasAuthenticated) this.usage.forget(conn.id).catch((e) => this.#storeWarning(e, "removing usage_pool entries"));
  }

  #writePool(conn: WsConnection): void {
    const user = this.userOf(conn);
    if (!user) return;
    conn.poolWrittenAt = Date.now();
    this.pool.write(conn.id, user).catch((e) => this.#storeWarning(e, "writing a session_pool entry"));
  }

  /** One warning per 10 s at most: a store outage must not flood the log. */
  #storeWarning(e: unknown, doing: string): void {
    const now = Date.now();
    if (now - this.#lastStoreWarning < 10_000) return;
    this.#lastStoreWarning = now;
    this.d.log.warn({ err: (e as Error).message }, `store unavailable while ${doing}`);
  }
}
