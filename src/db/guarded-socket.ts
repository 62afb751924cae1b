import net from "node:net";

/** What postgres.js passes its `socket` factory (its parsed options). */
interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * A socket that keeps one no-op `error` listener however often its listeners are removed.
 * postgres.js detaches every listener when a connection closes; a Postgres going down can
 * still make the runtime emit a late `ECONNRESET` on that socket, and an `error` event
 * nobody listens to ends the process. postgres.js handles the connection's failure through
 * its own listeners before that, so the late one carries nothing to act on.
 */
class GuardedSocket extends net.Socket {
  constructor() {
    super();
    super.on("error", ignore);
  }

  override removeAllListeners(event?: string | symbol): this {
    super.removeAllListeners(event);
    if (event === undefined || event === "error") super.on("error", ignore);
    return this;
  }
}

function ignore(): void {}

/**
 * postgres.js's `socket` option: a {@link GuardedSocket}, connecting to the configured
 * hosts in turn. Returned while still connecting: postgres.js writes its startup message at
 * once (queued until connected) and learns of a failed connect through its own listeners.
 */
export function guardedSocketFactory(): (target: SocketTarget) => net.Socket {
  let next = 0;
  return (target) => {
    const socket = new GuardedSocket();
    if (target.path) return socket.connect(target.path);
    const i = next++ % Math.max(1, target.host.length);
    return socket.connect(target.port[i] ?? target.port[0] ?? 5432, target.host[i] ?? "127.0.0.1");
  };
}
