/** What the WebSocket benches (bench/ws.ts, bench/ws-burst.ts) share: the fixture's stats route and small number helpers. */
import type { ServerProcess } from "../../test/helpers/server-process.ts";

/** The ws-server fixture's `/test/ws/stats` answer. */
export interface Stats {
  authenticated: number;
  anonymous: number;
  rss: number;
  heapUsed: number;
}

/** A JSON POST. */
export const post = (url: string, body: unknown) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** The server's socket counts and memory. */
export const stats = async (s: ServerProcess) => (await (await fetch(`${s.baseUrl}/test/ws/stats`)).json()) as Stats;

/** The `p`th percentile of `xs` (NaN when empty). */
export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Bytes as MiB with one decimal. */
export const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
