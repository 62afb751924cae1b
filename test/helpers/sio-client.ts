import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

/** What a Socket.IO test client saw. */
export interface SioRecord {
  events: Array<{ event: string; args: unknown[] }>;
  disconnects: string[];
  connectErrors: Array<{ message: string; data?: unknown }>;
  connects: number;
}

/**
 * A real socket.io-client 4.x socket with exactly Open WebUI's client options (its
 * frontend's `io(...)` call), plus a record of everything it saw.
 */
export function openWebUISocket(
  baseUrl: string,
  token: string | undefined,
  transports: Array<"websocket" | "polling"> = ["websocket"],
  /** Extra client options (e.g. `extraHeaders` to pose as a proxy or another site). */
  extra: Partial<ManagerOptions & SocketOptions> = {},
): { socket: Socket; seen: SioRecord } {
  const socket = io(baseUrl, {
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
    path: "/ws/socket.io",
    transports,
    auth: token === undefined ? {} : { token },
    ...extra,
  });
  const seen: SioRecord = { events: [], disconnects: [], connectErrors: [], connects: 0 };
  socket.onAny((event: string, ...args: unknown[]) => seen.events.push({ event, args }));
  socket.on("connect", () => seen.connects++);
  socket.on("disconnect", (reason) => seen.disconnects.push(reason));
  socket.on("connect_error", (e: Error & { data?: unknown }) => seen.connectErrors.push({ message: e.message, data: e.data }));
  return { socket, seen };
}

/** Resolves once connected; rejects with the connect_error (or after `ms`). */
export function connected(socket: Socket, ms = 5000): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not connected within ${ms} ms`)), ms);
    socket.once("connect", () => (clearTimeout(timer), resolve()));
    socket.once("connect_error", (e) => (clearTimeout(timer), reject(e)));
  });
}

/** Resolves with the first connect_error; rejects if the socket connects instead (or after `ms`). */
export function refused(socket: Socket, ms = 5000): Promise<Error & { data?: unknown }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect_error within ${ms} ms`)), ms);
    socket.once("connect", () => (clearTimeout(timer), reject(new Error("connected with a token that should be refused"))));
    socket.once("connect_error", (e) => (clearTimeout(timer), resolve(e)));
  });
}

/** Emits with an ack and resolves with the ack's first argument (undefined for an empty ack). */
export function request(socket: Socket, event: string, data: unknown, ms = 5000): Promise<unknown> {
  return socket.timeout(ms).emitWithAck(event, data) as Promise<unknown>;
}
