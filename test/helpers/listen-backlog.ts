/**
 * The accept-queue caps of the sockets listening on `port`, as the kernel reports them: `ss -ltn`
 * shows a listener's backlog as its Send-Q (one entry per socket; several with reusePort).
 */
export function listenerBacklogs(port: number): number[] {
  const out = Bun.spawnSync(["ss", "-ltnH", `sport = :${port}`]).stdout.toString();
  return out.trim().split("\n").filter(Boolean).map((line) => Number(line.trim().split(/\s+/)[2]));
}
