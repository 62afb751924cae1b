import type { WsTransport } from "./transport.ts";
import type { WsTransportKind } from "../observability/ws-metrics.ts";

/** Lifecycle of a socket. */
export type ConnectionState = "anonymous" | "authenticated" | "closed";

/**
 * One socket on this instance. Kept small (it is multiplied by every idle client): the token
 * itself is never kept, only its `jti`, `iat` and `exp`, which revocation and expiry need.
 */
export class WsConnection {
  state: ConnectionState = "anonymous";
  userId: string | null = null;
  jti: string | null = null;
  iat: number | undefined = undefined;
  exp: number | undefined = undefined;
  /** Rooms joined besides `user:{id}` (e.g. `channel:{id}`); null until the first. */
  rooms: Set<string> | null = null;
  /** Bad frames so far (reset by a good one). */
  strikes = 0;
  authTimer: ReturnType<typeof setTimeout> | null = null;
  /** When this socket's session_pool entry was last written (ms, local clock). */
  poolWrittenAt = 0;
  /** Frames held while an authentication on this socket is in flight, so they run in order. */
  held: string[] | null = null;
  /** The client address counted against the unauthenticated-socket cap, until it authenticates or closes. */
  anonymousClient: string | null = null;

  constructor(
    /** The session_pool field and log id; random, never derived from the user. */
    readonly id: string,
    readonly transport: WsTransport,
    /** The trusted-proxy email of the upgrade request, re-checked on every user-join. */
    readonly trustedEmail: string | null,
  ) {}

  /** The metrics' `transport` label. */
  get kind(): WsTransportKind {
    return this.transport.kind ?? "ws";
  }

  get open(): boolean {
    return this.state !== "closed";
  }
}
