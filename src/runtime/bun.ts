import type { FetchHandler } from "../http/request-accounting.ts";
import { recordPeerAddress } from "../http/client-address.ts";

/** A listening server, whatever the runtime. */
export interface RunningServer {
  /** The bound port (useful with port 0). */
  port: number;
  /** Stops accepting; resolves when in-flight requests finished (or at once when `force`). */
  stop(force?: boolean): Promise<void>;
}

/** Serves `fetch` with Bun.serve. */
export function serveBun(fetch: FetchHandler, opts: { host: string; port: number; maxBodyBytes: number }): RunningServer {
  const server = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    // Headroom above our own limit, so oversize bodies get the app's JSON 413 (request-limits.ts).
    maxRequestBodySize: opts.maxBodyBytes * 2 + 65_536,
    // LLM streams are long; the gateway keeps them alive itself.
    idleTimeout: 255,
    fetch(request, server) {
      recordPeerAddress(request, server.requestIP(request)?.address);
      return fetch(request);
    },
    error: () => new Response(JSON.stringify({ detail: "Internal Server Error" }), { status: 500, headers: { "content-type": "application/json" } }),
  });
  return {
    port: server.port ?? opts.port,
    stop: (force = false) => server.stop(force),
  };
}
