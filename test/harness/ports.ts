/** Loopback port allocation for the service launcher. */
import { createServer } from "node:net";

/**
 * A TCP port that was free on 127.0.0.1 a moment ago: binds port 0, reads the port the
 * kernel picked, and releases it. Another process can still take it before the caller
 * binds, so launchers retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error("could not read the port bound on 127.0.0.1"));
        return;
      }
      srv.close((err) => (err ? reject(err) : resolve(addr.port)));
    });
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A free port `p` on 127.0.0.1 whose cluster-bus port `p + 10000` is also free. Redis Cluster
 * nodes listen on both, and before Redis 7 the bus offset cannot be configured, so ports
 * above 55535 (common in Linux's ephemeral range) are unusable.
 */
export async function freeClusterPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = await freePort();
    if (port <= 55535 && (await canBind(port + 10000))) return port;
  }
  throw new Error("no free port p on 127.0.0.1 with p + 10000 also free after 200 tries");
}
