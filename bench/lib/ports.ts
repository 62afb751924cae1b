import { createServer } from "node:net";

/** Whether 127.0.0.1:`port` can be bound right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A port P such that P … P+n-1 are free now on 127.0.0.1. Chosen below Linux's ephemeral range
 * (32768+): after a run of thousands of connections, ports next to a kernel-picked one are
 * often still held by client sockets in TIME_WAIT.
 */
export async function freeConsecutivePorts(n: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const p = 20_000 + Math.floor(Math.random() * (12_000 - n));
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await canBind(p + i);
    if (ok) return p;
  }
  throw new Error(`no ${n} consecutive free ports on 127.0.0.1`);
}
