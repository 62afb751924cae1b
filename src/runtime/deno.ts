import type { FetchHandler } from "../http/request-accounting.ts";
import type { RunningServer } from "./bun.ts";
import { recordPeerAddress } from "../http/client-address.ts";

declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
    handler: (req: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> };
};

/** Serves `fetch` with Deno.serve: the only part of serving that differs on Deno. */
export function serveDeno(fetch: FetchHandler, opts: { host: string; port: number }): RunningServer {
  const server = Deno.serve({ hostname: opts.host, port: opts.port, onListen: () => {} }, (req, info) => {
    recordPeerAddress(req, info.remoteAddr.hostname);
    return fetch(req);
  });
  return {
    port: server.addr.port,
    stop: async () => {
      await server.shutdown();
    },
  };
}
