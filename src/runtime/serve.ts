/**
 * The one thing an entry point hands to `startGatehouse`: its runtime's way to listen. Each
 * adapter (bun.ts, deno.ts) records every request's socket peer with `recordPeerAddress`
 * (src/http/client-address.ts) before the app sees it, and serves the WebSocket hub at its path.
 */
import type { FetchHandler } from "../http/request-accounting.ts";
import type { WsEndpoint } from "../ws/upgrade.ts";

/** Where and how to listen. */
export interface ServeOptions {
  host: string;
  /** 0 picks a free port (see {@link RunningServer.port}). */
  port: number;
  /** The app's own body limit; an adapter with a limit of its own sets it above this, so the app's JSON 413 answers. */
  maxBodyBytes: number;
  /** Share the port with sibling processes (`GATEHOUSE_PROCESSES`; Linux SO_REUSEPORT: each its own accept queue). */
  reusePort?: boolean;
}

/** A listening server, whatever the runtime. */
export interface RunningServer {
  /** The bound port (useful with port 0). */
  port: number;
  /** Stops accepting; resolves when in-flight requests finished (or at once when `force`, where the runtime can). */
  stop(force?: boolean): Promise<void>;
}

/** A runtime's serve function: `serveBun` (Bun.serve) or `serveDeno` (Deno.serve). */
export type ServeFunction = (fetch: FetchHandler, opts: ServeOptions, ws?: WsEndpoint) => RunningServer;
