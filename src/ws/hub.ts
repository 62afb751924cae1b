import type { Registry } from "prom-client";
import type { AuthModule } from "../auth/auth-module.ts";
import type { WsConfig } from "../config/config.ts";
import type { KeyValueStore } from "../kv/store.ts";
import type { Logger } from "../observability/logger.ts";
import { closeCodeLabel, createWsMetrics, type WsMetrics, type WsTransportKind } from "../observability/ws-metrics.ts";
import { WsConnection } from "./connection.ts";
import { SocketRegistry } from "./socket-registry.ts";
import { SessionPool, type PoolUser } from "./session-pool.ts";
import { PoolReaper } from "./pool-reaper.ts";
import { UsagePool } from "./usage-pool.ts";
import { Upkeep } from "./upkeep.ts";
import { Emitter, type EmitResult } from "./emitter.ts";
import { SessionWatch } from "./session-watch.ts";
import { SocketAuthenticator } from "./socket-auth.ts";
import { FrameDispatcher, type EventHandler, type HandlerOptions } from "./frame-dispatch.ts";
import { CLOSE } from "./protocol.ts";
import { AnonymousReservations } from "./anonymous-reservation.ts";
import { SocketAdmission, type VerifiedToken } from "./socket-admission.ts";
import type { ChannelAccess } from "./channel-access.ts";
import type { SocketIoEndpoint } from "./socketio-endpoint.ts";
import { runtimeLimits, type RuntimeLimits, type SocketSeed, type WsTransport } from "./transport.ts";

export type { VerifiedToken } from "./socket-admission.ts";

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
  readonly #dispatch: FrameDispatcher;
  readonly #anonymous: AnonymousReservations;
  readonly #admission: SocketAdmission;
  #draining = false;
  #lastStoreWarning = 0;

  constructor(private readonly d: WsHubDeps) {
    const c = d.config;
    this.limits = runtimeLimits(c);
    this.metrics = createWsMetrics(d.registry, { counts: (transport) => this.#sockets.countsOf(transport) });
    this.pool = new SessionPool(d.store);
    this.usage = new UsagePool(d.store);
    this.channels = d.channels;
    this.trustedEmailHeader = d.trustedEmailHeader;
    this.trustedProxies = d.trustedProxies ?? [];
    this.#anonymous = new AnonymousReservations(c.anonPerClient, c.anonMax, this.metrics, d.log);
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
    this.#dispatch = new FrameDispatcher(this, c, this.metrics, d.log);
    this.#admission = new SocketAdmission({
      sockets: this.#sockets, watch: this.#watch, metrics: this.metrics, log: d.log, config: c,
      authenticator: new SocketAuthenticator(d.auth.current, d.trustedEmailHeader),
      dispatch: this.#dispatch, anonymous: this.#anonymous,
      send: (conn, frame) => this.send(conn, frame),
      end: (conn, code, reason) => this.#end(conn, code, reason),
      releaseAnonymous: (conn) => this.#anonymous.releaseOf(conn),
      writePool: (conn) => this.#writePool(conn),
    });
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
    this.#admission.begin(conn, seed, verified, this.#draining);
    return conn;
  }

  /**
   * Counts one socket waiting to authenticate against the per-client and global caps
   * (`GATEHOUSE_WS_ANON_PER_CLIENT`, `GATEHOUSE_WS_ANON_MAX`), shared by `/ws` and Socket.IO;
   * false (counted in `gatehouse_ws_auth_failures_total{reason="too_many_anonymous"}`) when a
   * cap is reached. A reservation is handed to {@link open} or given back with {@link releaseAnonymous}.
   */
  reserveAnonymous(client: string, transport: WsTransportKind = "ws"): boolean {
    return this.#anonymous.reserve(client, transport);
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
  authenticate(conn: WsConnection, token: string): Promise<{ id: string; name: string } | null> {
    return this.#admission.authenticate(conn, token);
  }

  /**
   * Checks a token before any socket exists (Socket.IO's handshake, so a refused token gets
   * `connect_error`); pass the result to {@link open}. Refusals are counted here.
   */
  verify(token: string, trustedEmail: string | null): Promise<VerifiedToken> {
    return this.#admission.verify(token, trustedEmail);
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

  #cleanup(conn: WsConnection, removeFromPool: boolean): void {
    this.#anonymous.releaseOf(conn);
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
