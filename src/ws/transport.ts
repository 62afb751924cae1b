import type { WsConfig } from "../config/config.ts";
import type { WsTransportKind } from "../observability/ws-metrics.ts";

/**
 * What the hub needs from one runtime socket — the only part that differs between Bun
 * (`ServerWebSocket`) and Deno (`WebSocket` from `Deno.upgradeWebSocket`).
 */
export interface WsTransport {
  /** The metrics' `transport` label; absent means raw `/ws`. */
  readonly kind?: WsTransportKind;
  /**
   * Queues a text frame. `dropped` means the runtime refused it because the client's
   * buffer is over the backpressure limit (the hub then closes the socket); `closed` that
   * the socket is already going away (its close event follows).
   */
  send(text: string): "sent" | "dropped" | "closed";
  /** Starts the closing handshake; the runtime reports the close back to the hub. */
  close(code: number, reason: string): void;
}

/** What the upgrade step hands to `open`: the credential presented with the upgrade, if any. */
export interface SocketSeed {
  /** A session token from the cookie, `Authorization: Bearer` or `?token=`; used once, never stored. */
  token: string | null;
  /** The trusted-proxy email header of the upgrade request, when configured and sent by a trusted proxy. */
  trustedEmail: string | null;
  /** The client's address (see clientAddress), for the cap on sockets waiting to authenticate. */
  client?: string;
  /**
   * Already counted against the anonymous caps by {@link WsHub.reserveAnonymous} (Socket.IO
   * reserves at its handshake, so a refusal is a `connect_error`); `open` takes the slot over.
   */
  anonymousReserved?: boolean;
}

/** Limits the runtime adapters apply natively (frame size cap, idle pings, send buffer). */
export interface RuntimeLimits {
  /** Frames above this are cut by the runtime (1009); the hub answers smaller oversize frames itself. */
  hardMaxPayloadBytes: number;
  idleTimeoutSeconds: number;
  backpressureLimitBytes: number;
}

/** The runtime limits for a configuration. */
export function runtimeLimits(c: Pick<WsConfig, "maxPayloadBytes" | "idleTimeoutSeconds" | "backpressureLimitBytes">): RuntimeLimits {
  return {
    // Frames up to twice the limit reach the hub and get an `error` event; beyond that the runtime cuts them (1009).
    hardMaxPayloadBytes: c.maxPayloadBytes * 2 + 1024,
    idleTimeoutSeconds: c.idleTimeoutSeconds,
    backpressureLimitBytes: c.backpressureLimitBytes,
  };
}
