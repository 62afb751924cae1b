/**
 * What a runtime adapter needs to serve Socket.IO next to its own routes: requests under
 * {@link SocketIoEndpoint.path} go to `handle`, and WebSockets it upgraded (their data
 * carries `transport`) go to its `websocket` handlers instead of the `/ws` hub's.
 */
export interface SocketIoEndpoint {
  /** `/ws/socket.io` (a trailing slash is accepted too: clients add one). */
  readonly path: string;
  /** True when the request URL's path is this endpoint's (cheap for every other request). */
  matches(url: string): boolean;
  /** Serves an Engine.IO request (handshake, long-poll, or upgrade through `server`). */
  handle(request: Request, server: unknown): Promise<Response>;
  readonly websocket: {
    open(ws: unknown): void;
    message(ws: unknown, message: string | Uint8Array | ArrayBuffer): void;
    close(ws: unknown, code: number, reason: string): void;
  };
  /** Stops accepting and closes the engine's remaining connections. */
  close(): void;
}
