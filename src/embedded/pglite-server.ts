import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { mkdir } from "node:fs/promises";

/** An embedded PGlite database served on a loopback port, so the normal pool can use it. */
export interface EmbeddedPostgres {
  /** A postgres:// URL for postgres.js. */
  url: string;
  /** Where the data lives. */
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Opens (or creates) a PGlite database in `dataDir` and serves it through pglite-socket on
 * 127.0.0.1 with an OS-assigned port. The strict pool then talks to it exactly as it talks
 * to a real server, so metrics and checkout semantics are the same on the embedded default.
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections: number): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir });
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections });
  await server.start();
  const port = listeningPort(server);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

function listeningPort(server: PGLiteSocketServer): number {
  // getServerConn() reports the bound address, including the port chosen for port 0.
  const conn = server.getServerConn();
  const port = Number(conn.split(":").pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`pglite-socket reported no port (${conn})`);
  return port;
}
