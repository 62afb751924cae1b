import type { WsConnection } from "./connection.ts";
import { RoomIndex } from "./room-index.ts";
import type { PoolUser } from "./session-pool.ts";
import type { DeliveryTarget } from "./delivery.ts";
import type { WsTransportKind } from "../observability/ws-metrics.ts";

/**
 * The sockets open on this instance and their indexes: by id, by user (the `user:{id}`
 * room), by token `jti` (for revocation), by explicit room, plus one pooled snapshot per
 * user with sockets here. Pure bookkeeping; no I/O.
 */
export class SocketRegistry {
  readonly #conns = new Map<string, WsConnection>();
  readonly #byUser = new Map<string, Set<WsConnection>>();
  readonly #byJti = new Map<string, Set<WsConnection>>();
  readonly #rooms = new RoomIndex<WsConnection>();
  readonly #users = new Map<string, PoolUser>();
  #authenticated = 0;

  add(conn: WsConnection): void {
    this.#conns.set(conn.id, conn);
  }

  get(id: string): WsConnection | undefined {
    return this.#conns.get(id);
  }

  /** A snapshot, safe to iterate while sockets close. */
  all(): WsConnection[] {
    return [...this.#conns.values()];
  }

  counts(): { authenticated: number; anonymous: number } {
    return { authenticated: this.#authenticated, anonymous: this.#conns.size - this.#authenticated };
  }

  /** Open sockets of one transport, by state (walks them: called per metrics scrape, not per event). */
  countsOf(transport: WsTransportKind): { authenticated: number; anonymous: number } {
    let authenticated = 0;
    let anonymous = 0;
    for (const conn of this.#conns.values()) {
      if (conn.kind !== transport) continue;
      if (conn.state === "authenticated") authenticated++;
      else anonymous++;
    }
    return { authenticated, anonymous };
  }

  socketsOfUser(userId: string): ReadonlySet<WsConnection> {
    return this.#byUser.get(userId) ?? EMPTY;
  }

  socketsWithJti(jti: string): ReadonlySet<WsConnection> {
    return this.#byJti.get(jti) ?? EMPTY;
  }

  /** The sockets a delivery target reaches (`null` = every socket; filter on state when sending). */
  members(target: DeliveryTarget): Iterable<WsConnection> {
    if (target === null) return this.#conns.values();
    if (target.startsWith("user:")) return this.socketsOfUser(target.slice(5));
    return this.#rooms.members(target);
  }

  user(userId: string): PoolUser | undefined {
    return this.#users.get(userId);
  }

  /** Replaces the snapshot of a user who has sockets here; false when they have none. */
  setUser(user: PoolUser): boolean {
    if (!this.#byUser.has(user.id)) return false;
    this.#users.set(user.id, user);
    return true;
  }

  /** Indexes an authenticated socket (its userId/jti already set) under `user`. */
  index(conn: WsConnection, user: PoolUser, wasAuthenticated: boolean): void {
    if (!wasAuthenticated) this.#authenticated++;
    addTo(this.#byUser, user.id, conn);
    if (conn.jti) addTo(this.#byJti, conn.jti, conn);
    this.#users.set(user.id, user);
  }

  /** Drops an authenticated socket from the user and jti indexes (and its rooms, when `leaveRooms`). */
  unindex(conn: WsConnection, leaveRooms: boolean): void {
    if (conn.userId !== null) {
      removeFrom(this.#byUser, conn.userId, conn);
      if (!this.#byUser.has(conn.userId)) this.#users.delete(conn.userId);
    }
    if (conn.jti) removeFrom(this.#byJti, conn.jti, conn);
    if (leaveRooms && conn.rooms) {
      for (const room of conn.rooms) this.#rooms.remove(room, conn);
      conn.rooms = null;
    }
  }

  /** Forgets a socket entirely; returns whether it was authenticated. */
  remove(conn: WsConnection): boolean {
    this.#conns.delete(conn.id);
    if (conn.state !== "authenticated") return false;
    this.#authenticated--;
    this.unindex(conn, true);
    return true;
  }

  joinRoom(conn: WsConnection, room: string): void {
    conn.rooms ??= new Set();
    conn.rooms.add(room);
    this.#rooms.add(room, conn);
  }
}

const EMPTY: ReadonlySet<never> = new Set();

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
