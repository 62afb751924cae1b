// The baselines of bench/request-path.ts: the same tiny JSON route on bare Bun.serve or bare
// Elysia (no hooks, no wrappers), one process each, like Gatehouse.
//   bun bench/lib/bare-server.ts bun|elysia <port>
import { Elysia } from "elysia";

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);
if (kind === "bun") {
  Bun.serve({
    hostname: "127.0.0.1", port,
    fetch: (req) => (new URL(req.url).pathname === "/livez" || req.url.endsWith("/bench/open")
      ? Response.json({ ok: true })
      : new Response("not found", { status: 404 })),
  });
} else {
  new Elysia().get("/bench/open", () => ({ ok: true })).get("/livez", () => ({ ok: true })).listen({ hostname: "127.0.0.1", port });
}
